// "Report a wrong verdict": a receipt of what was scored and what the model said, kept on this device for the user to
// export and send wherever they choose. Nothing here uploads. Pure: storage lives behind platform.ts.
import { ExtensionError, ExtensionErrorCode } from './errors.js';
import { isModality, type Modality, type Probabilities } from '@veracity/protocol/domain';
import type { ModelInfo, NetworkOrigin } from './messages.js';
import { THRESHOLD_SOURCES, type ThresholdSource } from './verdict.js';

/** Reports kept (oldest dropped first): a receipt is ~0.5 kB, so this stays far below chrome.storage's quota. */
export const MAX_REPORTS = 1000;

/** What the content script knows about the item the user reported (validated: it runs beside the page). */
export interface ReportInput {
  /** The media URL (an image's URL; a video's URL without the frame time). */
  url: string;
  kind: Modality;
  /** sha256 of the bytes scored (for a video, of the last frame scored). */
  sha256: string;
  frames: number;
  probabilities: Probabilities;
  /** What the badge said: its tone (ai, borderline, real, experimental) at the threshold in force. */
  verdict: string;
  threshold: number;
  /** Whose threshold that was: the user's, the model's operating point, or the default 0.5 (verdict.ts). */
  thresholdSource: ThresholdSource;
  model: ModelInfo;
  backend: string;
  /** When it was scored, epoch ms. */
  scoredAt: number;
}

/** One saved report: the verdict receipt. `site` comes from the tab the report came from, not from the page. */
export interface VerdictReceipt {
  schema: 1;
  reportedAt: string;
  site: string;
  media: { url: string; kind: Modality; sha256: string; frames: number };
  /** The model that scored it; `network` names the miner whose published bundle it was (absent: the bundled model). */
  bundle: ModelInfo;
  probabilities: Probabilities;
  /** P(AI) = P(synthetic) + P(semisynthetic). */
  ai: number;
  verdict: string;
  threshold: number;
  /** Absent in receipts saved before operating points (their threshold was the user's or the default 0.5). */
  thresholdSource?: ThresholdSource;
  backend: string;
  scoredAt: string;
}

function invalid(message: string): ExtensionError {
  return new ExtensionError(ExtensionErrorCode.ReportInvalid, message);
}

const SHA256 = /^[0-9a-f]{64}$/;
const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const unit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

function parseNetworkOrigin(v: unknown): NetworkOrigin {
  const n = v as Record<string, unknown> | null;
  if (typeof n !== 'object' || n === null) throw invalid('model.network must be an object');
  if (!Number.isInteger(n.uid) || (n.uid as number) < 0 || (n.uid as number) > 65535)
    throw invalid('model.network.uid must be a u16');
  if (!unit(n.incentive)) throw invalid('model.network.incentive must be in [0, 1]');
  if (typeof n.hotkey !== 'string' || !/^0x[0-9a-f]{64}$/.test(n.hotkey))
    throw invalid('model.network.hotkey must be 32 bytes hex');
  if (typeof n.bundle !== 'string' || !SHA256.test(n.bundle)) throw invalid('model.network.bundle must be 64 hex digits');
  return { uid: n.uid as number, incentive: n.incentive, hotkey: n.hotkey, bundle: n.bundle };
}

export function parseReportInput(raw: unknown): ReportInput {
  if (typeof raw !== 'object' || raw === null) throw invalid('report must be an object');
  const o = raw as Record<string, unknown>;
  if (!str(o.url, 8192)) throw invalid('report needs the media URL');
  if (!isModality(o.kind)) throw invalid('kind must be image or video');
  if (typeof o.sha256 !== 'string' || !SHA256.test(o.sha256)) throw invalid('sha256 must be 64 hex digits');
  if (!Number.isSafeInteger(o.frames) || (o.frames as number) < 1) throw invalid('frames must be a positive integer');
  const p = o.probabilities;
  if (!Array.isArray(p) || p.length !== 3 || !p.every(unit)) throw invalid('probabilities must be three numbers in [0, 1]');
  if (!str(o.verdict, 32)) throw invalid('report needs the verdict shown');
  if (!unit(o.threshold)) throw invalid('threshold must be a number in [0, 1]');
  if (!THRESHOLD_SOURCES.includes(o.thresholdSource as ThresholdSource))
    throw invalid(`thresholdSource must be one of ${THRESHOLD_SOURCES.join(', ')}`);
  const m = o.model as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || !str(m.id, 200) || !str(m.version, 100) || typeof m.sha256 !== 'string') {
    throw invalid('report needs the model id, version and sha256');
  }
  if (!SHA256.test(m.sha256)) throw invalid('model sha256 must be 64 hex digits');
  const network = m.network === undefined ? undefined : parseNetworkOrigin(m.network);
  if (!str(o.backend, 32)) throw invalid('report needs the backend');
  if (typeof o.scoredAt !== 'number' || !Number.isFinite(o.scoredAt) || o.scoredAt <= 0) throw invalid('scoredAt must be a time');
  return {
    url: o.url,
    kind: o.kind,
    sha256: o.sha256,
    frames: o.frames as number,
    probabilities: [p[0], p[1], p[2]] as Probabilities,
    verdict: o.verdict,
    threshold: o.threshold,
    thresholdSource: o.thresholdSource as ThresholdSource,
    model: { id: m.id, version: m.version, sha256: m.sha256, ...(network ? { network } : {}) },
    backend: o.backend,
    scoredAt: o.scoredAt,
  };
}

/** The receipt saved for a report from a page on `site`, reported at `now` (epoch ms). */
export function makeReceipt(input: ReportInput, site: string, now: number): VerdictReceipt {
  const [, synthetic, semi] = input.probabilities;
  return {
    schema: 1,
    reportedAt: new Date(now).toISOString(),
    site,
    media: { url: input.url, kind: input.kind, sha256: input.sha256, frames: input.frames },
    bundle: input.model,
    probabilities: input.probabilities,
    ai: synthetic + semi,
    verdict: input.verdict,
    threshold: input.threshold,
    thresholdSource: input.thresholdSource,
    backend: input.backend,
    scoredAt: new Date(input.scoredAt).toISOString(),
  };
}

/** Adds a receipt; one for the same media bytes and bundle replaces the older one (a second click is not news). */
export function appendReport(list: readonly VerdictReceipt[], receipt: VerdictReceipt, max = MAX_REPORTS): VerdictReceipt[] {
  const same = (r: VerdictReceipt) =>
    r.media.sha256 === receipt.media.sha256 && r.bundle.sha256 === receipt.bundle.sha256 && r.site === receipt.site;
  return [...list.filter((r) => !same(r)), receipt].slice(-max);
}

/** Stored reports as read back: anything that is not a receipt (a hand edit, another version) is dropped. */
export function readReports(stored: unknown): VerdictReceipt[] {
  if (!Array.isArray(stored)) return [];
  return stored.filter(
    (r): r is VerdictReceipt =>
      typeof r === 'object' && r !== null && (r as VerdictReceipt).schema === 1 && typeof (r as VerdictReceipt).site === 'string',
  );
}

/** The export file: what the user downloads from the popup. */
export function exportReports(list: readonly VerdictReceipt[], now: number): { name: string; json: string } {
  const stamp = new Date(now).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return {
    name: `veracity-reports-${stamp}.json`,
    json: `${JSON.stringify({ exported: new Date(now).toISOString(), reports: list }, null, 2)}\n`,
  };
}
