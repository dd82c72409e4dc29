// <video>: frames sampled while it plays (one per interval, up to the bundle's video.frames, which the scanner asks
// the offscreen document for) and when it pauses or seeks; a paused video that already shows a frame gets one
// sample. Only videos on screen or about to be.
import { LOOKAHEAD_MARGIN, skipReason } from '../../core/filters.js';
import { initialSampler, recordSample, type SamplerState, shouldSample, type VideoEvent } from '../../core/video.js';
import type { Scanner } from '../scanner.js';
import type { Collector } from './types.js';

const INTERVAL_MS = 1000;
const EVENTS = ['playing', 'pause', 'seeked', 'timeupdate', 'loadeddata'] as const;

export class VideoCollector implements Collector {
  private io: IntersectionObserver | null = null;
  private mo: MutationObserver | null = null;
  private readonly attached = new Map<HTMLVideoElement, (e: Event) => void>();
  private samplers = new WeakMap<HTMLVideoElement, SamplerState>();
  private readonly busy = new WeakSet<HTMLVideoElement>();

  constructor(private readonly scanner: Scanner) {}

  start(): void {
    if (this.io) return;
    this.samplers = new WeakMap();
    this.io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const v = e.target as HTMLVideoElement;
          if (e.isIntersecting) this.attach(v);
          else this.detach(v);
        }
      },
      { rootMargin: LOOKAHEAD_MARGIN },
    );
    for (const v of document.querySelectorAll('video')) this.io.observe(v);
    this.mo = new MutationObserver((records) => {
      let removed = false;
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (n instanceof HTMLVideoElement) this.io?.observe(n);
          else if (n instanceof Element) for (const v of n.querySelectorAll('video')) this.io?.observe(v);
        }
        if (r.removedNodes.length > 0) removed = true;
      }
      if (removed) {
        for (const v of [...this.attached.keys()]) if (!v.isConnected) this.detach(v);
        this.scanner.prune();
      }
    });
    this.mo.observe(document.documentElement, { childList: true, subtree: true });
  }

  stop(): void {
    this.io?.disconnect();
    this.mo?.disconnect();
    this.io = null;
    this.mo = null;
    for (const v of [...this.attached.keys()]) this.detach(v);
  }

  private attach(v: HTMLVideoElement): void {
    if (this.attached.has(v)) return;
    const listener = (e: Event) =>
      this.event(v, e.type === 'timeupdate' ? 'tick' : e.type === 'loadeddata' ? 'seeked' : (e.type as VideoEvent['type']));
    for (const name of EVENTS) v.addEventListener(name, listener);
    this.attached.set(v, listener);
    // Already showing a frame and not playing: nothing else will happen until the user acts, so sample now.
    if (v.readyState >= 2 && v.paused) this.event(v, 'seeked');
  }

  private detach(v: HTMLVideoElement): void {
    const listener = this.attached.get(v);
    if (!listener) return;
    for (const name of EVENTS) v.removeEventListener(name, listener);
    this.attached.delete(v);
  }

  private event(v: HTMLVideoElement, type: VideoEvent['type']): void {
    if (v.readyState < 2 || this.busy.has(v)) return;
    const rect = v.getBoundingClientRect();
    const url = v.currentSrc || v.src;
    if (
      skipReason({
        url: url || 'blob:',
        width: rect.width,
        height: rect.height,
        naturalWidth: v.videoWidth,
        naturalHeight: v.videoHeight,
      })
    )
      return;
    const e: VideoEvent = { type, now: performance.now(), currentTime: v.currentTime };
    this.busy.add(v);
    this.scanner
      .videoSampling()
      .then((sampling) => {
        const state = this.samplers.get(v) ?? initialSampler();
        if (!shouldSample(state, e, INTERVAL_MS, sampling.frames)) return;
        this.samplers.set(v, recordSample(state, e));
        return this.scanner.scanVideoFrame(v);
      })
      .catch((err: unknown) => console.debug('[veracity] video frame not scored:', err))
      .finally(() => this.busy.delete(v));
  }
}
