// <img> and <picture> (whose <img> shows the source the browser picked: currentSrc covers srcset and <source>).
// Only what is on screen or about to be (IntersectionObserver); new and changed images as they appear
// (MutationObserver: infinite scroll, lazy loaders swapping src/srcset).
import { codeOf, ExtensionErrorCode } from '../../core/errors.js';
import { LOOKAHEAD_MARGIN, skipReason } from '../../core/filters.js';
import { Slicer } from '../pixels.js';
import type { Scanner } from '../scanner.js';
import type { Collector } from './types.js';

export class ImageCollector implements Collector {
  private io: IntersectionObserver | null = null;
  private mo: MutationObserver | null = null;
  /** The URL each image was scored at, so a src change is scored again and nothing else is. */
  private scanned = new WeakMap<HTMLImageElement, string>();
  private readonly waiting = new WeakSet<HTMLImageElement>();
  private readonly failures = new WeakMap<HTMLImageElement, number>();
  private readonly slicer = new Slicer();

  constructor(private readonly scanner: Scanner) {}

  start(): void {
    if (this.io) return;
    // Badges were cleared when the collector stopped: everything on screen is scored (or served from cache) again.
    this.scanned = new WeakMap();
    this.io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (!e.isIntersecting) continue;
          const img = e.target as HTMLImageElement;
          const rect = e.boundingClientRect;
          this.slicer.push(() => this.consider(img, rect));
        }
      },
      { rootMargin: LOOKAHEAD_MARGIN },
    );
    for (const img of document.images) this.io.observe(img);
    this.mo = new MutationObserver((records) => this.mutated(records));
    this.mo.observe(document.documentElement, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['src', 'srcset', 'sizes'],
    });
  }

  stop(): void {
    this.io?.disconnect();
    this.mo?.disconnect();
    this.io = null;
    this.mo = null;
  }

  private mutated(records: MutationRecord[]): void {
    let removed = false;
    for (const r of records) {
      if (r.type === 'attributes') {
        const t = r.target;
        const img =
          t instanceof HTMLImageElement
            ? t
            : t.parentElement instanceof HTMLPictureElement
              ? t.parentElement.querySelector('img')
              : null;
        if (img) this.reobserve(img);
        continue;
      }
      for (const n of r.addedNodes) {
        if (n instanceof HTMLImageElement) this.io?.observe(n);
        else if (n instanceof Element) for (const img of n.querySelectorAll('img')) this.io?.observe(img);
      }
      if (r.removedNodes.length > 0) removed = true;
    }
    if (removed) this.scanner.prune();
  }

  /** Unobserve + observe delivers a fresh entry, so a changed image that is on screen is considered again. */
  private reobserve(img: HTMLImageElement): void {
    this.io?.unobserve(img);
    this.io?.observe(img);
  }

  private consider(img: HTMLImageElement, rect: DOMRectReadOnly): void {
    if (!this.io) return;
    if (!img.complete || img.naturalWidth === 0) {
      // Lazy images load once they come near the viewport: score them when they have pixels.
      if (this.waiting.has(img)) return;
      this.waiting.add(img);
      img.addEventListener(
        'load',
        () => {
          this.waiting.delete(img);
          this.reobserve(img);
        },
        { once: true },
      );
      return;
    }
    const url = img.currentSrc || img.src;
    if (this.scanned.get(img) === url) return;
    const reason = skipReason({
      url,
      width: rect.width,
      height: rect.height,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
    });
    if (reason) return;
    this.scanned.set(img, url);
    this.scanner.scanImage(img, url).catch((e: unknown) => {
      console.debug('[veracity] image not scored:', url, e);
      // Refused without the user's login: asking again gets the same answer (the badge says so).
      if (codeOf(e) === ExtensionErrorCode.MediaNeedsLogin) return;
      this.scanned.delete(img);
      // A transient failure (the engine starting, the service worker waking) gets two more tries, later.
      const n = (this.failures.get(img) ?? 0) + 1;
      this.failures.set(img, n);
      if (n <= 2) setTimeout(() => this.reobserve(img), 2000 * n);
    });
  }
}
