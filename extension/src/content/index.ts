// Content script entry: decides whether this page is scanned, runs one collector per media kind while it is, and
// answers the popup (summary) and the context menu (check one item, even with auto-scan off). It only observes,
// measures and sends messages; decoding and inference happen in the extension's offscreen document.
import { ExtensionError, ExtensionErrorCode } from '../core/errors.js';
import { skipReason } from '../core/filters.js';
import type { ScanResult, ToContent } from '../core/messages.js';
import { siteEnabled } from '../core/settings.js';
import { getSettings, onMessage, onSettingsChanged } from '../platform.js';
import { BadgeLayer } from './badge.js';
import { ImageCollector } from './collectors/images.js';
import type { Collector } from './collectors/types.js';
import { VideoCollector } from './collectors/videos.js';
import { Scanner } from './scanner.js';

let lastContextTarget: Element | null = null;
addEventListener('contextmenu', (e) => (lastContextTarget = e.target instanceof Element ? e.target : null), {
  capture: true,
  passive: true,
});

async function main(): Promise<void> {
  let settings = await getSettings();
  const scanner = new Scanner(settings, new BadgeLayer());
  const collectors: Collector[] = [new ImageCollector(scanner), new VideoCollector(scanner)];
  let active = false;

  const apply = () => {
    const want = siteEnabled(settings, location.hostname);
    if (want === active) return;
    active = want;
    if (active) for (const c of collectors) c.start();
    else {
      for (const c of collectors) c.stop();
      scanner.clear();
    }
  };

  onSettingsChanged((s) => {
    settings = s;
    scanner.setSettings(s);
    apply();
  });

  onMessage((raw) => {
    const m = raw as ToContent;
    if (m?.type === 'summary') return Promise.resolve(scanner.summary(active));
    // Only the extension's own contexts can send this (the page cannot read its badges: closed shadow roots).
    if (m?.type === 'badges') return Promise.resolve(scanner.layer.describe());
    if (m?.type === 'check' && typeof m.srcUrl === 'string') return check(scanner, m.srcUrl);
    return undefined;
  });

  apply();
}

/** The context menu's target: the element right-clicked, else the first image or video showing that URL. */
function findMedia(srcUrl: string): HTMLImageElement | HTMLVideoElement | null {
  const shows = (el: Element) =>
    (el instanceof HTMLImageElement || el instanceof HTMLVideoElement) && (el.currentSrc === srcUrl || el.src === srcUrl);
  if (lastContextTarget && shows(lastContextTarget)) return lastContextTarget as HTMLImageElement | HTMLVideoElement;
  for (const el of document.querySelectorAll('img, video')) if (shows(el)) return el as HTMLImageElement | HTMLVideoElement;
  for (const v of document.querySelectorAll('video'))
    if ([...v.querySelectorAll('source')].some((s) => s.src === srcUrl)) return v;
  return null;
}

async function check(scanner: Scanner, srcUrl: string): Promise<ScanResult> {
  const el = findMedia(srcUrl);
  if (!el) throw new ExtensionError(ExtensionErrorCode.NoTarget, `no image or video on this page shows ${srcUrl}`);
  if (el instanceof HTMLVideoElement) return scanner.scanVideoFrame(el);
  // Asked for explicitly: only refuse what cannot be read at all (an SVG, a tracking pixel), not small sizes.
  const reason = skipReason({ url: srcUrl, width: 64, height: 64, naturalWidth: 0, naturalHeight: 0 });
  if (reason && reason !== 'tiny')
    throw new ExtensionError(ExtensionErrorCode.MediaUnreadable, `cannot score this item (${reason})`);
  return scanner.scanImage(el, srcUrl);
}

void main();
