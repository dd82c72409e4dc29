import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DatasetRow, type Label, LABELS, parseDatasetManifest } from '@veracity/models';
import type { Rng } from '../random.js';

export type Modality = 'image' | 'video';

/** A labelled set on disk, indexed by label and modality for sampling. */
export class ChallengeDataset {
  readonly root: string;
  readonly rows: DatasetRow[];
  private readonly pools = new Map<string, DatasetRow[]>();

  constructor(root: string, rows: DatasetRow[]) {
    this.root = root;
    this.rows = rows;
    for (const row of rows) {
      const key = `${row.label}/${row.modality}`;
      this.pools.set(key, [...(this.pools.get(key) ?? []), row]);
    }
  }

  /** Reads `<root>/manifest.csv`; fails with the folder named when the set is missing or has nothing usable. */
  static load(root: string): ChallengeDataset {
    const dir = resolve(root);
    const file = join(dir, 'manifest.csv');
    if (!existsSync(file)) throw new Error(`no dataset at ${dir}: manifest.csv is missing (set --dataset or VERACITY_DATASET)`);
    const { rows } = parseDatasetManifest(readFileSync(file, 'utf8'));
    if (rows.length === 0) throw new Error(`${file} lists no usable media`);
    return new ChallengeDataset(dir, rows);
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
   * Draws a label by `mix` among the labels this modality has (a missing label's share goes to the others), then
   * a uniformly random item of it.
   */
  sample(rng: Rng, modality: Modality, mix: Record<Label, number>): DatasetRow {
    const available = Object.fromEntries(LABELS.map((l) => [l, this.count(l, modality) > 0 ? mix[l] : 0])) as Record<
      Label,
      number
    >;
    if (Object.values(available).every((w) => w <= 0))
      throw new Error(`the dataset has no ${modality} items in the configured mix`);
    const label = rng.weighted(available);
    return rng.pick(this.pools.get(`${label}/${modality}`) ?? []);
  }
}
