// Reading pixels in the page, for what only the page can read: blob: and data: images, and video frames (a video's
// current frame exists nowhere else). Decoding and PNG encoding happen off the main thread.

/**
 * A lossless PNG data URL of an element's current pixels at intrinsic size; throws SecurityError when tainted.
 * createImageBitmap decodes off the main thread (a drawImage of an <img> would decode synchronously on it).
 */
export async function elementPixels(el: HTMLImageElement | HTMLVideoElement): Promise<string> {
  const width = el instanceof HTMLVideoElement ? el.videoWidth : el.naturalWidth;
  const height = el instanceof HTMLVideoElement ? el.videoHeight : el.naturalHeight;
  if (!(width > 0 && height > 0)) throw new Error('nothing to read yet');
  const bitmap = await createImageBitmap(el);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
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

/**
 * Runs queued callbacks in slices of at most `budgetMs`, yielding to the page between slices, so a burst (200
 * images entering the viewport at once) never becomes one long task on the page's main thread.
 */
export class Slicer {
  private readonly queue: Array<() => void> = [];
  private scheduled = false;
  private readonly channel = new MessageChannel();
  constructor(private readonly budgetMs = 8) {}

  push(task: () => void): void {
    this.queue.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      this.yieldThen();
    }
  }

  private drain(): void {
    const end = performance.now() + this.budgetMs;
    while (this.queue.length > 0 && performance.now() < end) {
      try {
        this.queue.shift()!();
      } catch (e) {
        console.debug('[veracity]', e);
      }
    }
    // The next slice after a timer, not straight after another message: back-to-back message tasks leave the page
    // no idle gap between slices, so they add up to one long busy stretch on its main thread.
    if (this.queue.length > 0) setTimeout(() => this.yieldThen(), 0);
    else this.scheduled = false;
  }

  /**
   * A new task via a MessageChannel, not setTimeout: chained timers get clamped, and in a tab Chrome counts as
   * hidden to 1 per second (measured: a 100-image page took 100 s to badge instead of 20 s).
   */
  private yieldThen(): void {
    this.channel.port1.onmessage = () => this.drain();
    this.channel.port2.postMessage(null);
  }
}
