import { constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { type DatasetRow, parseDatasetManifest } from '@veracity/models';
import { type Label, LABELS, type Modality } from '@veracity/protocol';
import type { Rng } from '../random.js';

/** A manifest row the validator will not use, and why; `where` is `line N` or the row's path (never absolute). */
export interface RejectedRow {
  where: string;
  reason: string;
}

/** Largest dataset file read into memory for a challenge (a 16384² PNG is ~1 GiB raw, far less encoded). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** What a non-regular file is, in words for the log. */
function kind(s: import('node:fs').Stats): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isDirectory()) return 'a directory';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** A labelled set on disk, indexed by label and modality for sampling. */
export class ChallengeDataset {
  readonly root: string;
  readonly rows: DatasetRow[];
  /** Rows left out at load, each once, with the reason. */
  readonly rejected: RejectedRow[];
  private readonly realRoot: string;
  private readonly pools = new Map<string, DatasetRow[]>();

  constructor(root: string, rows: DatasetRow[], rejected: RejectedRow[] = []) {
    this.root = root;
    this.realRoot = existsSync(root) ? realpathSync(root) : root;
    this.rows = rows;
    this.rejected = rejected;
    for (const row of rows) {
      const key = `${row.label}/${row.modality}`;
      this.pools.set(key, [...(this.pools.get(key) ?? []), row]);
    }
  }

  /**
   * Reads `<root>/manifest.csv`; fails with the folder named when the set is missing or has nothing usable, or when
   * one file is listed with two labels (which label would a miner be scored against?). A row is left out, with its
   * reason in `rejected` and passed to `onReject` once, when the manifest line is unusable, its file is missing,
   * is not a regular file (a FIFO would block the reader forever), resolves (through links) outside the folder, or
   * repeats a row already listed.
   */
  static load(root: string, onReject: (r: RejectedRow) => void = () => undefined): ChallengeDataset {
    const dir = resolve(root);
    const file = join(dir, 'manifest.csv');
    if (!existsSync(file)) throw new Error(`no dataset at ${dir}: manifest.csv is missing (set --dataset or VERACITY_DATASET)`);
    const parsed = parseDatasetManifest(readFileSync(file, 'utf8'));
    const rejected: RejectedRow[] = parsed.rejected.map((r) => ({ where: `line ${r.line}`, reason: r.reason }));
    const realRoot = realpathSync(dir);
    const byFile = new Map<string, DatasetRow>();
    const conflicts: string[] = [];
    const rows: DatasetRow[] = [];
    for (const row of parsed.rows) {
      let real: string;
      try {
        real = realpathSync(join(dir, row.path));
      } catch {
        rejected.push({ where: row.path, reason: 'file not found' });
        continue;
      }
      if (!real.startsWith(realRoot + sep)) {
        rejected.push({ where: row.path, reason: 'resolves (through a link) outside the dataset folder' });
        continue;
      }
      const stat = statSync(real);
      if (!stat.isFile()) {
        rejected.push({ where: row.path, reason: `${kind(stat)}, not a regular file` });
        continue;
      }
      const first = byFile.get(real);
      if (first) {
        if (first.label !== row.label) conflicts.push(`${row.path} is listed as ${first.label} and as ${row.label}`);
        else rejected.push({ where: row.path, reason: `listed twice (as ${first.path})` });
        continue;
      }
      byFile.set(real, row);
      rows.push(row);
    }
    if (conflicts.length > 0)
      throw new Error(`${file} gives one file two labels; fix the manifest:\n  - ${conflicts.join('\n  - ')}`);
    for (const r of rejected) onReject(r);
    if (rows.length === 0) throw new Error(`${file} lists no usable media`);
    return new ChallengeDataset(dir, rows, rejected);
  }

  /** Stops drawing an item that failed to read or decode (it stays in `rows` for reports). */
  quarantine(row: DatasetRow): void {
    const key = `${row.label}/${row.modality}`;
    this.pools.set(
      key,
      (this.pools.get(key) ?? []).filter((r) => r !== row),
    );
  }

  count(label: Label, modality: Modality): number {
    return this.pools.get(`${label}/${modality}`)?.length ?? 0;
  }

  path(row: DatasetRow): string {
    return join(this.root, row.path);
  }

  /**
   * The row's file, checked again when it is used (the folder may have changed since load): its real path inside
   * the folder, and a regular file (opened non-blocking, so a FIFO put in its place is refused, not waited on).
   * With `read`, its bytes too. Errors name the row's relative path, never the server's.
   */
  async open(row: DatasetRow, read: boolean): Promise<{ path: string; bytes?: Buffer }> {
    const fail = (why: string) => new Error(`${row.path}: ${why}`);
    const real = await realpath(this.path(row)).catch(() => {
      throw fail('file not found');
    });
    if (!real.startsWith(this.realRoot + sep)) throw fail('resolves (through a link) outside the dataset folder');
    const fd = await open(real, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
      throw fail(`cannot open (${e.code ?? 'error'})`);
    });
    try {
      const stat = await fd.stat();
      if (!stat.isFile()) throw fail(`${kind(stat)}, not a regular file`);
      if (!read) return { path: real };
      if (stat.size > MAX_FILE_BYTES) throw fail(`${stat.size} bytes is over the ${MAX_FILE_BYTES}-byte limit`);
      return { path: real, bytes: await fd.readFile() };
    } finally {
      await fd.close();
    }
  }

  /** `text` with the dataset folder's absolute path (as given and as resolved) replaced by `.`: safe to publish. */
  redact(text: string): string {
    return text.split(this.realRoot).join('.').split(this.root).join('.');
  }

  /**
   * Draws a label by `mix` among the labels this modality has (a missing label's share goes to the others), then
   * a uniformly random item of it.
   */
  sample(rng: Rng, modality: Modality, mix: Record<Label, number>): DatasetRow {
    return this.sampleRow(rng, this.sampleLabel(rng, modality, mix), modality);
  }

  /** The label half of `sample`: drawn by `mix` among the labels this modality has. */
  sampleLabel(rng: Rng, modality: Modality, mix: Record<Label, number>): Label {
    const available = Object.fromEntries(LABELS.map((l) => [l, this.count(l, modality) > 0 ? mix[l] : 0])) as Record<
      Label,
      number
    >;
    if (Object.values(available).every((w) => w <= 0))
      throw new Error(`the dataset has no ${modality} items in the configured mix`);
    return rng.weighted(available);
  }

  /** The item half of `sample`: a uniformly random item of `label` and `modality`. */
  sampleRow(rng: Rng, label: Label, modality: Modality): DatasetRow {
    return rng.pick(this.pools.get(`${label}/${modality}`) ?? []);
  }
}
