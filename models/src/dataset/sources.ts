/**
 * The platform-free half of `veracity-dataset`: the sources file (a dataset manifest plus a `url` column), which rows
 * to fetch, resume or skip, the retry schedule and the progress line. The Node adapter (files, HTTP, hashing) is
 * download.ts.
 */
import { type DatasetRow, parseCsv } from './dataset.js';
import { ErrorCode, VeracityError } from '../core/errors.js';
import { isModality, LABELS, type Label } from '@veracity/protocol/domain';

/** The columns of ../shared/datasets/manifest.csv, in its order; a produced manifest starts with these. */
export const MANIFEST_COLUMNS = [
  'path',
  'label',
  'modality',
  'group',
  'source_repo',
  'generator',
  'license',
  'sha256',
  'notes',
] as const;

export interface SourceRow extends DatasetRow {
  /** Lower-case hex SHA-256 of the file: nothing is kept without it matching. */
  sha256: string;
  /** An http(s) URL, or a path relative to the mirror folder. */
  url: string;
}

export interface SourceRejection {
  /** 1-based line of the CSV record, counting the header. */
  line: number;
  path: string;
  reason: string;
}

export interface ParsedSources {
  /** Columns of the manifest to write: the sources header without `url`, in the file's order. */
  columns: string[];
  rows: SourceRow[];
  rejected: SourceRejection[];
}

const REQUIRED = ['path', 'label', 'modality', 'group', 'sha256'] as const;
const INTERPRETED = new Set(['path', 'label', 'modality', 'group', 'sha256', 'url']);
const SHA256 = /^[0-9a-f]{64}$/i;

/**
 * A path that stays inside the folder it is joined to on every platform: relative, '/'-separated, no '.', '..' or
 * empty segments, no backslashes, drive letters or control characters. Names the tool itself writes (`*.part`,
 * the manifest and its temp file) are refused too, so a row can never clobber them.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[a-zA-Z]:/.test(path)) return 'has a drive letter';
  if (path.includes('\\')) return 'contains a backslash (use /)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  const segments = path.split('/');
  if (segments.includes('..')) return 'climbs out with ..';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  if (path.endsWith('.part')) return 'ends in .part (reserved for partial downloads)';
  if (segments.length === 1 && (path === 'manifest.csv' || path.startsWith('.manifest.csv')))
    return 'would overwrite the manifest';
  return undefined;
}

export type SourceKind = 'http' | 'mirror';

export function sourceKind(url: string): SourceKind {
  return /^https?:\/\//i.test(url) ? 'http' : 'mirror';
}

function urlProblem(url: string): string | undefined {
  if (url === '') return 'has no url';
  if (sourceKind(url) === 'http') {
    try {
      new URL(url);
      return undefined;
    } catch {
      return `url "${url}" is not a valid URL`;
    }
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url)) return `url "${url}" is neither http(s) nor a mirror path`;
  const unsafe = unsafePathReason(url);
  return unsafe ? `mirror path "${url}" ${unsafe}` : undefined;
}

/**
 * Parses a sources file: the manifest columns plus `url`. With `urlFromPath` (a plain manifest used as the sources
 * list of its own folder) a missing or empty `url` means the row's `path` in the mirror. A file without the required
 * columns throws E_SOURCES_INVALID; a bad row is returned in `rejected` (with why) so one typo does not sink the set.
 */
export function parseSources(text: string, options: { urlFromPath?: boolean } = {}): ParsedSources {
  const [header, ...body] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!header) throw new VeracityError(ErrorCode.SourcesInvalid, 'the sources file is empty');
  const required = options.urlFromPath ? REQUIRED : [...REQUIRED, 'url'];
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new VeracityError(ErrorCode.SourcesInvalid, `the sources file lacks the column(s) ${missing.join(', ')}`);
  const duplicates = header.filter((h, i) => header.indexOf(h) !== i);
  if (duplicates.length > 0)
    throw new VeracityError(ErrorCode.SourcesInvalid, `the sources file repeats the column(s) ${duplicates.join(', ')}`);

  const rows: SourceRow[] = [];
  const rejected: SourceRejection[] = [];
  const seen = new Set<string>();
  body.forEach((cells, i) => {
    // Only the fields the tool interprets are trimmed; free text (notes, license) is kept as written.
    const raw = Object.fromEntries(
      header.map((h, j) => [h, INTERPRETED.has(h) ? (cells[j] ?? '').trim() : (cells[j] ?? '')]),
    ) as Record<string, string>;
    const line = i + 2;
    const path = raw.path ?? '';
    const url = raw.url || (options.urlFromPath ? path : '');
    const reject = (reason: string) => rejected.push({ line, path, reason });
    const unsafe = unsafePathReason(path);
    if (unsafe) return reject(`path "${path}" ${unsafe}`);
    if (!LABELS.includes(raw.label as Label)) return reject(`unknown label "${raw.label}"`);
    if (!isModality(raw.modality)) return reject(`unknown modality "${raw.modality}"`);
    if (!SHA256.test(raw.sha256 ?? '')) return reject(`sha256 "${raw.sha256}" is not 64 hex digits`);
    const problem = urlProblem(url);
    if (problem) return reject(problem);
    if (seen.has(path)) return reject(`path "${path}" is listed twice`);
    seen.add(path);
    rows.push({ ...raw, group: raw.group || 'ungrouped', sha256: raw.sha256!.toLowerCase(), url } as SourceRow);
  });
  return { columns: header.filter((h) => h !== 'url'), rows, rejected };
}

/** `--only-groups` then `--limit` (at most N rows per group, first in file order, as veracity-eval's --limit). */
export function selectRows<T extends DatasetRow>(rows: T[], options: { onlyGroups?: string[]; limit?: number }): T[] {
  const groups = options.onlyGroups && options.onlyGroups.length > 0 ? new Set(options.onlyGroups) : undefined;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const taken = new Map<string, number>();
  return rows.filter((row) => {
    if (groups && !groups.has(row.group)) return false;
    const n = taken.get(row.group) ?? 0;
    if (n >= limit) return false;
    taken.set(row.group, n + 1);
    return true;
  });
}

/** What is on disk for one row before the run: the final file's hash, and the `.part` left by an earlier run. */
export interface LocalFile {
  final?: { sha256: string };
  part?: { bytes: number; sha256: string };
}

export type Step =
  /** The final file is there with the right hash. */
  | { action: 'skip'; discardPart: boolean }
  /** The `.part` already holds the whole file (a run died between the last byte and the rename). */
  | { action: 'promote' }
  /** Continue the `.part` with an HTTP Range request from `offset`. */
  | { action: 'resume'; offset: number }
  /** Download from byte 0. */
  | { action: 'fetch'; discardPart: boolean }
  /** Link or copy from the mirror. */
  | { action: 'copy'; discardPart: boolean };

/** Which work a row needs. A wrong final file is never trusted: it is replaced by the fetched one. */
export function planRow(row: Pick<SourceRow, 'sha256' | 'url'>, local: LocalFile): Step {
  if (local.final?.sha256 === row.sha256) return { action: 'skip', discardPart: local.part !== undefined };
  if (local.part?.sha256 === row.sha256) return { action: 'promote' };
  if (sourceKind(row.url) === 'mirror') return { action: 'copy', discardPart: local.part !== undefined };
  if (local.part && local.part.bytes > 0) return { action: 'resume', offset: local.part.bytes };
  return { action: 'fetch', discardPart: local.part !== undefined };
}

export interface RetryPolicy {
  /** Attempts after the first one (0 = no retry). */
  retries: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseMs: 500, maxMs: 30_000 };

/**
 * Wait before retry number `attempt` (1-based): exponential, capped, with "equal jitter" (half fixed, half random)
 * so many clients that failed together do not come back together, yet each still waits. A server's Retry-After
 * wins when it asks for longer, up to the cap.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** 408, 425, 429 and every 5xx are worth another try; other non-2xx answers will not change. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/** The first byte of a `Content-Range: bytes a-b/n` answer, to check a 206 continues where the `.part` ends. */
export function contentRangeStart(value: string | null | undefined): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface ProgressSnapshot {
  total: number;
  ok: number;
  skipped: number;
  failed: number;
  bytes: number;
  elapsedMs: number;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * One progress line: files done of total, bytes, rate and ETA. The ETA extrapolates the time per finished row
 * (verified, skipped or failed) over the rows left, since a sources file carries no sizes to count bytes against.
 */
export function formatProgress(s: ProgressSnapshot): string {
  const done = s.ok + s.skipped + s.failed;
  const seconds = s.elapsedMs / 1000;
  const rate = seconds > 0 ? `${formatBytes(Math.round(s.bytes / seconds))}/s` : '-';
  const left = s.total - done;
  const eta = left === 0 ? 'done' : done > 0 ? `ETA ${formatDuration((s.elapsedMs / done) * left)}` : 'ETA -';
  const parts = [`${done}/${s.total} files`];
  if (s.skipped > 0) parts.push(`${s.skipped} already there`);
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  return `${parts.join(', ')} | ${formatBytes(s.bytes)} at ${rate} | ${eta}`;
}

/** RFC 4180 CSV (the dialect parseCsv reads): fields with a comma, quote, newline or edge space are quoted. */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, string | undefined>>): string {
  const cell = (v: string | undefined) => {
    const s = v ?? '';
    return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
