// Reading pixels in the page, for what the page itself may read (same-origin images, blob:/data: URLs, same-origin
// video frames). The work that costs time (PNG encoding) happens off the main thread inside convertToBlob.

/** A lossless PNG data URL of an element's current pixels at intrinsic size; throws SecurityError when tainted. */
export async function elementPixels(el: HTMLImageElement | HTMLVideoElement): Promise<string> {
  const width = el instanceof HTMLVideoElement ? el.videoWidth : el.naturalWidth;
  const height = el instanceof HTMLVideoElement ? el.videoHeight : el.naturalHeight;
  if (!(width > 0 && height > 0)) throw new Error('nothing to read yet');
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  ctx.drawImage(el, 0, 0, width, height);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export function isSecurityError(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'SecurityError';
}

/** Runs at most `limit` tasks at once, so a page of 200 images does not start 200 canvas reads together. */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
