import type { DatasetRow, Label } from '@veracity/models';
import { Rng } from '../random.js';
import { applyAugment, type AugmentLevel, type AugmentParams, drawAugment, MIME } from './augment.js';
import { ChallengeDataset, type Modality } from './dataset.js';
import { extractFrames } from './video.js';

export interface ChallengeConfig {
  /** Share of each label (default 50 / 35 / 15). */
  labelMix: Record<Label, number>;
  /** Share of each modality (default 80 % image). */
  modalityMix: Record<Modality, number>;
  /** Share of each augmentation level. */
  levelMix: Record<AugmentLevel, number>;
  /** Frames per video challenge. */
  videoFrames: number;
  seed: number | string;
}

export const DEFAULT_CHALLENGE_CONFIG: ChallengeConfig = {
  labelMix: { real: 50, synthetic: 35, semisynthetic: 15 },
  modalityMix: { image: 80, video: 20 },
  levelMix: { none: 10, geometric: 30, medium: 35, hard: 25 },
  videoFrames: 8,
  seed: 'veracity',
};

export interface PreparedChallenge {
  id: string;
  label: Label;
  modality: Modality;
  /** One encoded image, or the frames of a clip. */
  media: Buffer[];
  mime: string;
  augment: AugmentParams;
  /** Where it came from (kept in the validator's log, never sent to miners). */
  source: { path: string; group: string };
}

/**
 * Draws challenges from a dataset: label by mix, item at random, augmentation per challenge. Deterministic under
 * the seed: challenge n is the same bytes on every run, because each challenge draws from its own forked stream.
 */
export class ChallengeFactory {
  private readonly rng: Rng;
  private counter = 0;
  /** Dataset files that failed to read or decode, so an operator can fix the set. */
  readonly unreadable: Array<{ path: string; error: string }> = [];

  constructor(
    readonly dataset: ChallengeDataset,
    readonly config: ChallengeConfig = DEFAULT_CHALLENGE_CONFIG,
  ) {
    this.rng = new Rng(config.seed);
  }

  async next(): Promise<PreparedChallenge> {
    // A corrupt file costs one retry, not a round; five in a row means the set itself is broken.
    for (let attempt = 0; attempt < 5; attempt++) {
      const rng = this.rng.fork(this.counter++);
      const modality = this.pickModality(rng);
      const row = this.dataset.sample(rng, modality, this.config.labelMix);
      try {
        return await this.prepare(rng, row, modality);
      } catch (e) {
        // Published on the status page: library errors may quote the file's absolute path, so it is redacted.
        this.unreadable.push({ path: row.path, error: this.dataset.redact(e instanceof Error ? e.message : String(e)) });
        this.dataset.quarantine(row);
      }
    }
    throw new Error(`five dataset items in a row failed to prepare; last: ${JSON.stringify(this.unreadable.at(-1))}`);
  }

  private pickModality(rng: Rng): Modality {
    const mix = { ...this.config.modalityMix };
    for (const m of ['image', 'video'] as const) {
      if ((['real', 'synthetic', 'semisynthetic'] as const).every((l) => this.dataset.count(l, m) === 0)) mix[m] = 0;
    }
    return rng.weighted(mix);
  }

  private async prepare(rng: Rng, row: DatasetRow, modality: Modality): Promise<PreparedChallenge> {
    const id = Array.from({ length: 4 }, () => rng.u32().toString(16).padStart(8, '0')).join('');
    const augment = drawAugment(rng, rng.weighted(this.config.levelMix));
    const noise = rng.fork('noise');
    // Checked at use, not only at load: a regular file inside the folder (a FIFO would block the reader forever).
    const file = await this.dataset.open(row, modality === 'image');
    const sources = modality === 'video' ? await extractFrames(file.path, this.config.videoFrames, rng.next()) : [file.bytes!];
    const media: Buffer[] = [];
    for (const src of sources) media.push(await applyAugment(src, augment, noise));
    return {
      id,
      label: row.label,
      modality,
      media,
      mime: MIME[augment.format.type],
      augment,
      source: { path: row.path, group: row.group },
    };
  }
}
