// Every message between the extension's parts, as one discriminated union on `type`, with validation at the
// receiving end (a content script runs beside untrusted pages; its messages are checked, not trusted).
import { ExtensionError, ExtensionErrorCode } from './errors.js';
import type { DownloadProgress } from './network/download.js';
import type { NetworkModelRef } from './network/state.js';
import type { BackendPreference } from './settings.js';
import { parseReportInput, type ReportInput } from './reports.js';
import { isModality, type Modality, type Probabilities } from '@veracity/protocol/domain';
import type { Trust } from './verdict.js';
import type { VideoSampling } from './video.js';

/** The Port name content scripts send scan requests on. */
export const SCAN_CHANNEL = 'veracity-scan';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the pixels come from. */
export type Source =
  /** Fetched by the extension (host permissions: no CORS tainting), decoded in the offscreen document. */
  | { type: 'url'; url: string }
  /** Read through a canvas in the page (same-origin media, video frames), as a lossless PNG data URL. */
  | { type: 'pixels'; dataUrl: string }
  /** A tainted video frame: the visible tab is captured and this rect (CSS px, viewport) cropped from it. */
  | { type: 'capture'; rect: Rect; dpr: number }
  /** A capture already taken by the service worker, handed to the offscreen document to crop. */
  | { type: 'screenshot'; dataUrl: string; rect: Rect; dpr: number };

export interface ScanRequest {
  /** Dedupe and cache key: the media URL for images; URL + time for video frames. */
  key: string;
  kind: Modality;
  source: Source;
  /** Video frames change under the same URL: never cache them. */
  cache?: boolean;
}

/** Where a network model came from: the miner whose published bundle it is, as the chain said at the last check. */
export interface NetworkOrigin {
  uid: number;
  /** [0, 1] */
  incentive: number;
  /** The miner's hotkey, 32 bytes hex. */
  hotkey: string;
  /** The bundle's id: sha256 of its manifest.json, as committed on chain. */
  bundle: string;
}

/** The model that scored something: the bundled one, or a network one (with `network`). */
export interface ModelInfo {
  id: string;
  version: string;
  /** The model file's sha256, as its manifest publishes it. */
  sha256: string;
  /** The bundle's operating point (manifest calibration.threshold), absent when it names none (verdict.ts thresholdInForce). */
  threshold?: number;
  network?: NetworkOrigin;
}

export interface ScanResult {
  key: string;
  probabilities: Probabilities;
  ai: number;
  label: string;
  /** The bundle that scored it. */
  model: ModelInfo;
  /** sha256 (hex) of the bytes scored: the file as fetched, the PNG read through a canvas, or the cropped frame. */
  sha256: string;
  backend: string;
  /** Decode + pre-process + inference time for this item, ms. */
  ms: number;
  /** When it was scored (epoch ms). */
  at: number;
  /** A small JPEG data URL of what was scored, for the popup's list (never leaves the browser). */
  thumb: string;
  /** Video frames only: whether the bundle's clip test backs a verdict (images: always, so absent). */
  trust?: Trust;
  /** Video frames only: how the bundle that scored it samples and judges video (its manifest's video section). */
  video?: VideoSampling;
}

export interface EngineStatus {
  state: 'idle' | 'loading' | 'ready' | 'failed';
  backend?: string;
  adapter?: string;
  /** Backends passed over before this one, and why (for 'auto', a software WebGPU adapter is skipped for WASM). */
  fallbacks?: string[];
  error?: string;
  /** The model loaded, once the engine is ready. */
  model?: ModelInfo;
  timing?: { decode_ms: number; classify_ms: number; thumb_ms: number };
  queue?: { submitted: number; cacheHits: number; deduped: number; batches: number; processed: number; largestBatch: number };
}

export interface PageSummary {
  url: string;
  host: string;
  active: boolean;
  scanned: number;
  flagged: Array<{ key: string; kind: Modality; ai: number; thumb: string }>;
  /** Items scored but not judged: their kind's scores are experimental for this model (see verdict.ts Trust). */
  experimental: number;
  /** Images the page shows but the extension could not read without the user's cookies (not scored). */
  needsLogin: number;
}

/**
 * One badge as the content script knows it (the page cannot: badges live in closed shadow roots with no attributes).
 * Answers the `badges` message, which only the extension's own contexts can send: tests and tools read badges here.
 */
export interface BadgeInfo {
  key: string;
  kind: Modality;
  tone: string;
  /** Absent for a badge that reports no score (tone 'needs-login'). */
  ai?: number;
  probs?: number[];
  backend?: string;
  frames: number;
  /** What the badge shows, its details included when they are open. */
  text: string;
  /** The badge's box and, while open, its details' box, in CSS px relative to the viewport. */
  rect: Rect;
  tip: Rect | null;
  /** The "Report a wrong verdict" button, while the details are open. */
  reportButton: Rect | null;
}

/** Content scripts, popup and options -> service worker. */
export type ToBackground =
  | { type: 'scan'; request: ScanRequest }
  | { type: 'report'; report: ReportInput }
  | { type: 'engine-status' }
  /** How the bundle in use samples and judges video (VideoSampling): its manifest's video section. */
  | { type: 'video-sampling' }
  | { type: 'settings-changed' }
  /** Options page: check the network now (reads the chain, switches if a better verified bundle is published). */
  | { type: 'network-check' }
  /** Offscreen document: download progress of a network check, for the options page. */
  | { type: 'network-progress'; progress: DownloadProgress };

/** What a network check in the offscreen document ends with (failures are errors with E_CHAIN_* / E_BUNDLE_* codes). */
export interface NetworkCheckResult {
  outcome: 'switched' | 'kept';
  ref: NetworkModelRef;
}

/**
 * Service worker -> offscreen document. `partition` keys the result cache: the top-level page a scan is for
 * (see cachePartition), so a result computed for one site never answers another.
 */
export type ToOffscreen =
  | {
      target: 'offscreen';
      type: 'classify';
      request: ScanRequest;
      backend: BackendPreference;
      partition: string;
      /** The network bundle to score with (verified and stored on this device), or null for the bundled one. */
      network: NetworkModelRef | null;
    }
  | { target: 'offscreen'; type: 'status' }
  | {
      target: 'offscreen';
      type: 'network-check';
      endpoint: string;
      netuid: number;
      backend: BackendPreference;
      /** The network bundle in use now: kept (no download) when the chain still names it. */
      active: NetworkModelRef | null;
    }
  | {
      target: 'offscreen';
      type: 'video-sampling';
      backend: BackendPreference;
      /** As for 'classify': the bundle whose manifest answers is the one that would score the frames. */
      network: NetworkModelRef | null;
    };

/** The result cache's key for `key` (a media URL) scanned for a page in `partition`. */
export function partitionedKey(partition: string, key: string): string {
  return `${partition} ${key}`;
}

/** Service worker and popup (and tests, through the service worker) -> a tab's content script. */
export type ToContent = { type: 'check'; srcUrl: string } | { type: 'summary' } | { type: 'badges' };

/**
 * The cache partition of a scan: the origin of the tab's top-level page, taken by the service worker from the
 * sender (never from the content script's message). An origin is finer than a browser's "site" and needs no public
 * suffix list; a page that is not http(s) gets a partition of its own scheme.
 */
export function cachePartition(pageUrl: string | undefined): string {
  try {
    const u = new URL(pageUrl ?? '');
    return /^https?:$/.test(u.protocol) ? u.origin : `${u.protocol}opaque`;
  } catch {
    return 'unknown:';
  }
}

export type Reply<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

function bad(message: string): ExtensionError {
  return new ExtensionError(ExtensionErrorCode.MessageInvalid, message);
}

const MAX_DATA_URL = 64 * 1024 * 1024;

function isRect(r: unknown): r is Rect {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return ['x', 'y', 'width', 'height'].every((k) => typeof o[k] === 'number' && Number.isFinite(o[k]));
}

function checkSource(s: unknown): Source {
  if (typeof s !== 'object' || s === null) throw bad('source must be an object');
  const o = s as Record<string, unknown>;
  switch (o.type) {
    case 'url':
      if (typeof o.url !== 'string' || !/^https?:\/\//i.test(o.url)) throw bad('url source needs an http(s) URL');
      return { type: 'url', url: o.url };
    case 'pixels':
      if (typeof o.dataUrl !== 'string' || !o.dataUrl.startsWith('data:image/') || o.dataUrl.length > MAX_DATA_URL) {
        throw bad('pixels source needs an image data URL');
      }
      return { type: 'pixels', dataUrl: o.dataUrl };
    case 'capture':
      if (!isRect(o.rect) || o.rect.width <= 0 || o.rect.height <= 0) throw bad('capture source needs a non-empty rect');
      if (typeof o.dpr !== 'number' || !(o.dpr > 0)) throw bad('capture source needs a devicePixelRatio');
      return { type: 'capture', rect: o.rect, dpr: o.dpr };
    default:
      throw bad(`unknown source type ${JSON.stringify(o.type)}`);
  }
}

/** Validates a scan request from a content script (a screenshot source is never accepted from one). */
export function parseScanRequest(r: unknown): ScanRequest {
  if (typeof r !== 'object' || r === null) throw bad('request must be an object');
  const o = r as Record<string, unknown>;
  if (typeof o.key !== 'string' || o.key.length === 0 || o.key.length > 8192) throw bad('request needs a key');
  if (!isModality(o.kind)) throw bad('kind must be image or video');
  return { key: o.key, kind: o.kind, source: checkSource(o.source), ...(o.cache === false ? { cache: false } : {}) };
}

export function parseToBackground(m: unknown): ToBackground {
  if (typeof m !== 'object' || m === null) throw bad('message must be an object');
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'scan':
      return { type: 'scan', request: parseScanRequest(o.request) };
    case 'report':
      return { type: 'report', report: parseReportInput(o.report) };
    case 'engine-status':
    case 'video-sampling':
    case 'settings-changed':
    case 'network-check':
      return { type: o.type };
    case 'network-progress': {
      const p = o.progress as Record<string, unknown> | null;
      if (typeof p !== 'object' || p === null || !['manifest', 'download', 'verify'].includes(p.stage as string))
        throw bad('network-progress needs a stage');
      const n = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
      if (!n(p.loaded) || (p.total !== undefined && !n(p.total))) throw bad('network-progress needs byte counts');
      return {
        type: 'network-progress',
        progress: {
          stage: p.stage as DownloadProgress['stage'],
          loaded: p.loaded as number,
          ...(p.total !== undefined ? { total: p.total as number } : {}),
          ...(typeof p.file === 'string' ? { file: p.file.slice(0, 200) } : {}),
        },
      };
    }
    default:
      throw bad(`unknown message type ${JSON.stringify(o.type)}`);
  }
}

export function isToOffscreen(m: unknown): m is ToOffscreen {
  return typeof m === 'object' && m !== null && (m as { target?: unknown }).target === 'offscreen';
}

export function ok<T>(value: T): Reply<T> {
  return { ok: true, value };
}

export function fail(code: string, message: string): Reply<never> {
  return { ok: false, code, message };
}

/** The error a failed reply stands for: its message as sent (already "CODE: ..." from an ExtensionError), code alongside. */
export function replyError(reply: { code: string; message: string }): Error {
  return Object.assign(new Error(reply.message), { code: reply.code });
}
