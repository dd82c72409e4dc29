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
 * Runs `slice(deadline)` in later tasks of the page's main thread until it reports no more work, so a burst (200
 * images entering the viewport, a batch of results arriving) never becomes one long task there.
 *
 * A slice starts as a MessageChannel task, not a timer or an animation frame: chained timers get clamped, and a tab
 * Chrome counts as occluded gets about one timer run and one frame a second (measured: a 100-image page took 100 s
 * to badge instead of 20 s). The next slice waits for a timer, though, not straight another message: back-to-back
 * message tasks leave the page no idle gap, so slices would add up to one long busy stretch on its main thread.
 */
export class Slices {
  private scheduled = false;
  private readonly channel = new MessageChannel();

  constructor(
    /** Does work until `deadline` (a performance.now() time); returns whether any is left. */
    private readonly slice: (deadline: number) => boolean,
    private readonly budgetMs: number,
  ) {
    this.channel.port1.onmessage = () => {
      if (this.slice(performance.now() + this.budgetMs)) setTimeout(() => this.channel.port2.postMessage(null), 0);
      else this.scheduled = false;
    };
  }

  /** Asks for slices until the work is done; a no-op while they are already under way. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.channel.port2.postMessage(null);
  }
}

/** Queued callbacks, run in slices of at most `budgetMs` (see Slices). */
export class Slicer {
  private readonly queue: Array<() => void> = [];
  private readonly slices: Slices;

  constructor(budgetMs = 8) {
    this.slices = new Slices((deadline) => {
      while (this.queue.length > 0 && performance.now() < deadline) {
        try {
          this.queue.shift()!();
        } catch (e) {
          console.debug('[veracity]', e);
        }
      }
      return this.queue.length > 0;
    }, budgetMs);
  }

  push(task: () => void): void {
    this.queue.push(task);
    this.slices.schedule();
  }
}
