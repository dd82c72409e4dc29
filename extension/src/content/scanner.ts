// Turns media elements into scan requests, keeps what was learned about each (for badges and the popup's summary)
// and re-renders badges when settings change. The service worker and offscreen document do the heavy work.
import type { Modality, Probabilities } from '@veracity/protocol/domain';
import { codeOf, ExtensionErrorCode } from '../core/errors.js';
import { type PageSummary, type Rect, SCAN_CHANNEL, type ScanRequest, type ScanResult, type Source } from '../core/messages.js';
import type { Settings } from '../core/settings.js';
import type { ReportInput } from '../core/reports.js';
import { type BadgeView, badgeView, needsLoginView, thresholdInForce } from '../core/verdict.js';
import { type VideoSampling, videoVerdict } from '../core/video.js';
import { extensionChannel } from '../platform.js';
import type { BadgeLayer } from './badge.js';
import { elementPixels, isSecurityError, Limiter } from './pixels.js';

interface Item {
  kind: Modality;
  url: string;
  /** null: not scored, because the image's server wants the user's login (see scanImage). */
  result: ScanResult | null;
  frames: Probabilities[];
}

export class Scanner {
  private readonly items = new Map<Element, Item>();
  private readonly reads = new Limiter(2);
  private readonly send = extensionChannel(SCAN_CHANNEL);
  private sampling: Promise<VideoSampling> | null = null;

  constructor(
    private settings: Settings,
    readonly layer: BadgeLayer,
  ) {}

  setSettings(settings: Settings): void {
    this.settings = settings;
    for (const [el, item] of this.items) this.draw(el, item);
  }

  /**
   * Scores an image (an <img>, including one inside <picture>) showing `url`. http(s) images, same-origin or not,
   * are fetched by the extension: reading them through a canvas here would cost the page's main thread a decode and
   * the serialisation of a PNG per image (measured: runs of 80+ ms on a 200-image page). blob: and data: URLs exist
   * only in this page, so those are read through a canvas (same-origin by definition, never tainted).
   */
  async scanImage(el: HTMLImageElement, url: string): Promise<ScanResult> {
    const source: Source = /^https?:/i.test(url)
      ? { type: 'url', url }
      : { type: 'pixels', dataUrl: await this.reads.run(() => elementPixels(el)) };
    let result: ScanResult;
    try {
      result = await this.request({ key: url, kind: 'image', source });
    } catch (e) {
      if (codeOf(e) !== ExtensionErrorCode.MediaNeedsLogin) throw e;
      result = await this.scanShownPixels(el, url, e);
    }
    const item: Item = { kind: 'image', url, result, frames: [result.probabilities] };
    this.items.set(el, item);
    this.draw(el, item);
    return result;
  }

  /**
   * The extension fetches without the user's cookies, and this image's server refused that. What the page can read
   * itself (same-origin, or allowed by CORS) is read from the pixels it already shows, with no new request; anything
   * else is badged "not checked" and `refusal` is thrown on.
   */
  private async scanShownPixels(el: HTMLImageElement, url: string, refusal: unknown): Promise<ScanResult> {
    let dataUrl: string;
    try {
      dataUrl = await this.reads.run(() => elementPixels(el));
    } catch (e) {
      if (!isSecurityError(e)) throw e;
      const item: Item = { kind: 'image', url, result: null, frames: [] };
      this.items.set(el, item);
      this.draw(el, item);
      throw refusal;
    }
    return this.request({ key: url, kind: 'image', source: { type: 'pixels', dataUrl } });
  }

  /**
   * How the bundle in use wants video sampled and judged (its manifest's video section): asked once per page (again
   * after a failure: the model may not have loaded yet), then kept up to date by each video frame's result.
   */
  videoSampling(): Promise<VideoSampling> {
    if (!this.sampling) {
      const asked = this.send<VideoSampling>({ type: 'video-sampling' });
      asked.catch(() => {
        if (this.sampling === asked) this.sampling = null;
      });
      this.sampling = asked;
    }
    return this.sampling;
  }

  /** Scores the frame a <video> shows now and folds it into the video's verdict (the bundle's aggregate). */
  async scanVideoFrame(el: HTMLVideoElement): Promise<ScanResult> {
    const url = el.currentSrc || el.src || location.href;
    const key = `${url}#t=${el.currentTime.toFixed(3)}`;
    let source: Source;
    try {
      source = { type: 'pixels', dataUrl: await this.reads.run(() => elementPixels(el)) };
    } catch (e) {
      if (!isSecurityError(e)) throw e;
      source = { type: 'capture', rect: visibleRect(el), dpr: devicePixelRatio };
    }
    let result: ScanResult;
    if (source.type === 'capture') {
      // Our own badge must not be in the screenshot the frame is cut from.
      this.layer.setHidden(el, true);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      try {
        result = await this.request({ key, kind: 'video', source, cache: false });
      } finally {
        this.layer.setHidden(el, false);
      }
    } else {
      result = await this.request({ key, kind: 'video', source, cache: false });
    }
    const previous = this.items.get(el);
    const frames = [...(previous?.frames ?? []), result.probabilities];
    // The bundle that scored this frame decides how frames combine; if the model in use changed (a network model
    // switch), later sampling follows it too.
    if (result.video) this.sampling = Promise.resolve(result.video);
    const sampling = result.video ?? (await this.videoSampling());
    const merged: ScanResult = { ...result, key: url, ...videoVerdict(frames, sampling) };
    const item: Item = { kind: 'video', url, frames, result: merged };
    this.items.set(el, item);
    this.draw(el, item);
    return merged;
  }

  private request(request: ScanRequest): Promise<ScanResult> {
    return this.send<ScanResult>({ type: 'scan', request });
  }

  private view(item: Item): BadgeView {
    if (!item.result) return needsLoginView();
    return badgeView(item.result.probabilities, this.threshold(item.result), this.settings.badgeReal, validated(item));
  }

  /** The threshold in force for a result: the user's, else the operating point of the model that scored it. */
  private threshold(result: ScanResult): number {
    return thresholdInForce(this.settings.threshold, result.model).value;
  }

  private draw(el: Element, item: Item): void {
    if (!el.isConnected) return;
    const view = this.view(item);
    this.layer.show(el, {
      view,
      url: item.url,
      result: item.result,
      kind: item.kind,
      frames: item.frames.length,
      ...(item.result ? { report: () => this.report(item, view) } : {}),
    });
  }

  /** "Report a wrong verdict": the service worker saves this item's receipt on the device. */
  private async report(item: Item, view: BadgeView): Promise<string> {
    const r = item.result!;
    const inForce = thresholdInForce(this.settings.threshold, r.model);
    const report: ReportInput = {
      url: item.url,
      kind: item.kind,
      sha256: r.sha256,
      frames: Math.max(1, item.frames.length),
      probabilities: r.probabilities,
      verdict: view.tone,
      threshold: inForce.value,
      thresholdSource: inForce.source,
      model: r.model,
      backend: r.backend,
      scoredAt: r.at,
    };
    const { saved } = await this.send<{ saved: number }>({ type: 'report', report });
    return `Saved on this device (${saved} report${saved === 1 ? '' : 's'}). Export from the Veracity popup; nothing is sent.`;
  }

  forget(el: Element): void {
    this.items.delete(el);
    this.layer.remove(el);
  }

  /** Drops everything about elements that left the document (infinite scroll recycling nodes, removed posts). */
  prune(): void {
    for (const el of [...this.items.keys()]) if (!el.isConnected) this.items.delete(el);
    this.layer.prune();
  }

  clear(): void {
    this.items.clear();
    this.layer.clear();
  }

  summary(active: boolean): PageSummary {
    const flagged: PageSummary['flagged'] = [];
    let experimental = 0;
    let needsLogin = 0;
    let scanned = 0;
    for (const item of this.items.values()) {
      if (!item.result) {
        needsLogin++;
        continue;
      }
      scanned++;
      if (!validated(item)) experimental++;
      else if (badgeView(item.result.probabilities, this.threshold(item.result), true).flagged) {
        flagged.push({ key: item.result.key, kind: item.kind, ai: item.result.ai, thumb: item.result.thumb });
      }
    }
    flagged.sort((a, b) => b.ai - a.ai);
    return { url: location.href, host: location.hostname, active, scanned, flagged, experimental, needsLogin };
  }
}

/** Images are always judged; a video only when the bundle's clip test backs it (trust comes with each frame). */
function validated(item: Item): boolean {
  return item.result?.trust?.validated ?? true;
}

/** The element's box clipped to the viewport, in CSS px: what a tab capture can see of it. */
function visibleRect(el: Element): Rect {
  const r = el.getBoundingClientRect();
  const x = Math.max(0, r.left);
  const y = Math.max(0, r.top);
  const width = Math.min(innerWidth, r.right) - x;
  const height = Math.min(innerHeight, r.bottom) - y;
  return { x, y, width: Math.max(0, width), height: Math.max(0, height) };
}
