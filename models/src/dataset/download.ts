/**
 * The Node adapter of `veracity-dataset`: hashes what is on disk, downloads over HTTP(S) into `<file>.part` (resuming
 * with Range), links or copies from a mirror folder, verifies every file's SHA-256 before it gets its final name, and
 * writes the manifest of the verified rows atomically. Decisions (what to fetch, retry waits, progress text) live in
 * sources.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import {
  contentRangeStart,
  isRetryableStatus,
  type LocalFile,
  parseRetryAfter,
  planRow,
  type ProgressSnapshot,
  type RetryPolicy,
  retryDelayMs,
  type SourceRow,
  sourceKind,
  toCsv,
} from './sources.js';
import { ErrorCode, isVeracityError, messageOf, VeracityError } from '../core/errors.js';

export interface AssembleOptions {
  rows: SourceRow[];
  /** Manifest columns to write (ParsedSources.columns). */
  columns: string[];
  out: string;
  /** Folder that mirror paths (non-http urls) are relative to. */
  mirror?: string;
  concurrency: number;
  retry: RetryPolicy;
  /** Per request: no response headers, or no body bytes, for this long aborts the attempt (then it is retried). */
  timeoutMs: number;
  /** Hard-link mirror files when the output is on the same filesystem (else, or when false, copy). */
  link: boolean;
  onEvent?: (event: DatasetEvent) => void;
  /** Injected for tests of the schedule only; defaults to Math.random. */
  random?: () => number;
}

export interface DatasetFailure {
  path: string;
  code: string;
  detail: string;
}

export interface DatasetSummary {
  /** Files fetched, copied or linked and verified in this run. */
  ok: number;
  /** Files already in the output folder with the right hash. */
  skipped: number;
  failed: DatasetFailure[];
  /** Bytes transferred in this run: downloaded, copied or linked from the mirror (skipped files count 0). */
  bytes: number;
  ms: number;
}

export type DatasetEvent =
  | { type: 'progress'; snapshot: ProgressSnapshot }
  | { type: 'resume'; path: string; offset: number }
  | { type: 'retry'; path: string; attempt: number; delayMs: number; detail: string }
  | { type: 'restart'; path: string; detail: string }
  | { type: 'failed'; failure: DatasetFailure };

/** Where a row's file goes; refuses (again, after parseSources) anything that would land outside `root`. */
export function insideFolder(root: string, relative: string): string {
  const base = resolve(root);
  const target = resolve(base, relative);
  if (!target.startsWith(base + sep))
    throw new VeracityError(ErrorCode.SourcesInvalid, `"${relative}" would be written outside ${base}`);
  return target;
}

async function hashFile(path: string, into: Hash = createHash('sha256')): Promise<{ hash: Hash; bytes: number }> {
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    into.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hash: into, bytes };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function removeIfThere(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A failure that another attempt may fix (transport error, timeout, 5xx), as opposed to one that will not (404). */
class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export async function assembleDataset(options: AssembleOptions): Promise<DatasetSummary> {
  const started = Date.now();
  const out = resolve(options.out);
  const mirror = options.mirror === undefined ? undefined : resolve(options.mirror);
  const random = options.random ?? Math.random;
  const emit = options.onEvent ?? (() => {});
  await mkdir(out, { recursive: true }).catch((e: unknown) => {
    throw new VeracityError(ErrorCode.Write, `cannot create ${out}: ${messageOf(e)}`);
  });

  const snapshot: ProgressSnapshot = { total: options.rows.length, ok: 0, skipped: 0, failed: 0, bytes: 0, elapsedMs: 0 };
  const failed: DatasetFailure[] = [];
  const verified: boolean[] = options.rows.map(() => false);
  const progress = () => emit({ type: 'progress', snapshot: { ...snapshot, elapsedMs: Date.now() - started } });
  const addBytes = (n: number) => {
    snapshot.bytes += n;
    progress();
  };

  /** Streams one HTTP response body into the open `.part`, hashing as it goes; a stall longer than timeoutMs aborts. */
  async function download(row: SourceRow, part: string, resumeFrom: { hash: Hash; bytes: number } | undefined) {
    let state = resumeFrom;
    let freshAfterMismatch = false;
    for (let attempt = 0; ; attempt++) {
      const offset = state?.bytes ?? 0;
      if (offset > 0) emit({ type: 'resume', path: row.path, offset });
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(new Error(`no data for ${options.timeoutMs} ms`)), options.timeoutMs);
      };
      try {
        arm();
        let response: Response;
        try {
          response = await fetch(row.url, {
            headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
            signal: controller.signal,
            redirect: 'follow',
          });
        } catch (e) {
          throw new Retryable(`${messageOf(controller.signal.reason ?? e)}${causeOf(e)}`);
        }
        if (offset > 0 && response.status === 416) {
          // The .part is not a prefix the server recognises (the file changed, or it is longer): start over.
          await response.body?.cancel();
          emit({ type: 'restart', path: row.path, detail: 'server refused the range (416)' });
          state = undefined;
          await removeIfThere(part);
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          const detail = `HTTP ${response.status} ${response.statusText}`.trim();
          if (isRetryableStatus(response.status))
            throw new Retryable(detail, parseRetryAfter(response.headers.get('retry-after'), Date.now()));
          throw new VeracityError(ErrorCode.Fetch, `${detail} from ${row.url}`);
        }
        let append = false;
        if (offset > 0 && response.status === 206) {
          const start = contentRangeStart(response.headers.get('content-range'));
          if (start !== offset) {
            await response.body?.cancel();
            emit({ type: 'restart', path: row.path, detail: `206 starts at ${start ?? '?'} instead of ${offset}` });
            state = undefined;
            await removeIfThere(part);
            continue;
          }
          append = true;
        } else if (offset > 0) {
          emit({ type: 'restart', path: row.path, detail: `server ignored the range (HTTP ${response.status})` });
        }
        const hash = append && state ? state.hash : createHash('sha256');
        let bytes = append && state ? state.bytes : 0;
        state = { hash, bytes };
        const file = await open(part, append ? 'a' : 'w').catch((e: unknown) => {
          throw new VeracityError(ErrorCode.Write, `cannot write ${part}: ${messageOf(e)}`);
        });
        try {
          if (!response.body) throw new Retryable('response has no body');
          try {
            for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
              arm();
              // Write first, hash after: the hash must only ever cover bytes that are in the .part.
              await file.write(chunk).catch((e: unknown) => {
                throw new VeracityError(ErrorCode.Write, `cannot write ${part}: ${messageOf(e)}`);
              });
              hash.update(chunk);
              bytes += chunk.length;
              state.bytes = bytes;
              addBytes(chunk.length);
            }
          } catch (e) {
            if (isVeracityError(e)) throw e;
            throw new Retryable(`connection lost after ${bytes} bytes: ${messageOf(controller.signal.reason ?? e)}${causeOf(e)}`);
          }
        } finally {
          await file.close();
        }
        const digest = hash.digest('hex');
        if (digest === row.sha256) return;
        await removeIfThere(part);
        state = undefined;
        if (append && !freshAfterMismatch) {
          // A resumed file can be wrong only because its old prefix is stale: one fresh download decides.
          freshAfterMismatch = true;
          emit({ type: 'restart', path: row.path, detail: 'resumed file failed its sha256; downloading it whole' });
          continue;
        }
        throw new VeracityError(ErrorCode.Sha256Mismatch, `got ${digest}, the sources file says ${row.sha256}`);
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        if (attempt >= options.retry.retries)
          throw new VeracityError(ErrorCode.Fetch, `${e.message} (gave up after ${attempt + 1} attempts) for ${row.url}`);
        const delayMs = retryDelayMs(attempt + 1, options.retry, random, e.retryAfterMs);
        emit({ type: 'retry', path: row.path, attempt: attempt + 1, delayMs, detail: e.message });
        await sleep(delayMs);
        // After a cut the hash object still covers exactly the bytes in the .part, so the next attempt continues it.
        if (state && state.bytes === 0) state = undefined;
      } finally {
        clearTimeout(timer);
      }
    }
  }

  async function fromMirror(row: SourceRow, dest: string, part: string) {
    if (!mirror) throw new VeracityError(ErrorCode.Fetch, `"${row.url}" is a mirror path but no mirror folder is set`);
    const source = insideFolder(mirror, row.url);
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) throw new VeracityError(ErrorCode.Fetch, `${source} is not in the mirror`);
    await removeIfThere(part);
    let linked = false;
    if (options.link) {
      // EXDEV (another filesystem), EPERM (protected_hardlinks, some mounts): copying always works.
      linked = await link(source, part).then(
        () => true,
        () => false,
      );
    }
    if (!linked)
      await copyFile(source, part).catch((e: unknown) => {
        throw new VeracityError(ErrorCode.Write, `cannot copy ${source} to ${part}: ${messageOf(e)}`);
      });
    // Verify the file that will be kept (for a link it is the mirror's own inode), never just the source's name.
    const { hash, bytes } = await hashFile(part);
    const digest = hash.digest('hex');
    if (digest !== row.sha256) {
      await removeIfThere(part);
      throw new VeracityError(ErrorCode.Sha256Mismatch, `got ${digest}, the sources file says ${row.sha256}`);
    }
    return bytes;
  }

  async function one(index: number) {
    const row = options.rows[index]!;
    try {
      const dest = insideFolder(out, row.path);
      const part = `${dest}.part`;
      await mkdir(dirname(dest), { recursive: true });
      const local: LocalFile = {};
      let partState: { hash: Hash; bytes: number } | undefined;
      if (await exists(dest)) local.final = { sha256: (await hashFile(dest)).hash.digest('hex') };
      if (await exists(part)) {
        // Hash the .part only when it may be used; the live hash object is kept so a resume just continues it.
        if (local.final?.sha256 !== row.sha256) {
          partState = await hashFile(part);
          local.part = { bytes: partState.bytes, sha256: partState.hash.copy().digest('hex') };
        } else local.part = { bytes: 0, sha256: '' };
      }
      const step = planRow(row, local);
      if (step.action === 'skip') {
        if (step.discardPart) await removeIfThere(part);
        snapshot.skipped++;
        verified[index] = true;
        return;
      }
      if (step.action === 'copy') {
        // Await first: `snapshot.bytes += await …` would read the total before the wait and lose other workers' bytes.
        const copied = await fromMirror(row, dest, part);
        addBytes(copied);
      } else if (step.action !== 'promote') {
        if (step.action === 'fetch' && step.discardPart) await removeIfThere(part);
        await download(row, part, step.action === 'resume' ? partState : undefined);
      }
      await rename(part, dest);
      snapshot.ok++;
      verified[index] = true;
    } catch (e) {
      const failure = failureOf(row.path, e);
      failed.push(failure);
      snapshot.failed++;
      emit({ type: 'failed', failure });
    } finally {
      progress();
    }
  }

  await pool(options.rows.length, options.concurrency, one);
  await writeManifest(
    out,
    options.columns,
    options.rows.filter((_, i) => verified[i]),
  );
  return { ok: snapshot.ok, skipped: snapshot.skipped, failed, bytes: snapshot.bytes, ms: Date.now() - started };
}

async function pool(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count) await work(next++);
  });
  await Promise.all(workers);
}

export interface CheckOptions {
  rows: SourceRow[];
  /** The folder to verify: each row's file is `<folder>/<url>` (the path, for a plain manifest). */
  folder: string;
  concurrency: number;
  onEvent?: (event: DatasetEvent) => void;
}

/**
 * Verifies a local set in place, writing nothing: every row's file must exist with its sha256. Same summary shape
 * as assembleDataset (`ok` = verified, `bytes` = bytes hashed), so scripts read both alike.
 */
export async function checkDataset(options: CheckOptions): Promise<DatasetSummary> {
  const started = Date.now();
  const emit = options.onEvent ?? (() => {});
  const snapshot: ProgressSnapshot = { total: options.rows.length, ok: 0, skipped: 0, failed: 0, bytes: 0, elapsedMs: 0 };
  const failed: DatasetFailure[] = [];
  await pool(options.rows.length, options.concurrency, async (index) => {
    const row = options.rows[index]!;
    try {
      if (sourceKind(row.url) === 'http')
        throw new VeracityError(ErrorCode.SourcesInvalid, `--check verifies local files only; ${row.url} is a URL`);
      const file = insideFolder(options.folder, row.url);
      if (!(await exists(file))) throw new VeracityError(ErrorCode.Fetch, `${file} is missing`);
      const { hash, bytes } = await hashFile(file);
      snapshot.bytes += bytes;
      const digest = hash.digest('hex');
      if (digest !== row.sha256)
        throw new VeracityError(ErrorCode.Sha256Mismatch, `got ${digest}, the manifest says ${row.sha256}`);
      snapshot.ok++;
    } catch (e) {
      const failure = failureOf(row.path, e, ErrorCode.Fetch);
      failed.push(failure);
      snapshot.failed++;
      emit({ type: 'failed', failure });
    } finally {
      emit({ type: 'progress', snapshot: { ...snapshot, elapsedMs: Date.now() - started } });
    }
  });
  return { ok: snapshot.ok, skipped: 0, failed, bytes: snapshot.bytes, ms: Date.now() - started };
}

/** An unexpected (non-Veracity) error is a local I/O failure: writing when assembling, reading when checking. */
function failureOf(path: string, e: unknown, fallback: ErrorCode = ErrorCode.Write): DatasetFailure {
  return {
    path,
    code: isVeracityError(e) ? e.code : fallback,
    detail: isVeracityError(e) ? e.message.replace(`${e.code}: `, '') : messageOf(e),
  };
}

/** Temp file + rename, so a reader (the validator, veracity-eval) never sees half a manifest. */
export async function writeManifest(out: string, columns: string[], rows: SourceRow[]): Promise<string> {
  const target = join(out, 'manifest.csv');
  const temp = join(out, `.manifest.csv.${process.pid}.tmp`);
  try {
    await writeFile(temp, toCsv(columns, rows));
    await rename(temp, target);
  } catch (e) {
    await removeIfThere(temp).catch(() => {});
    throw new VeracityError(ErrorCode.Write, `cannot write ${target}: ${messageOf(e)}`);
  }
  return target;
}

/** undici hides the socket error ("other side closed", ECONNRESET) in `cause`; it is the useful part. */
function causeOf(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause;
  return cause ? ` (${messageOf(cause)})` : '';
}
