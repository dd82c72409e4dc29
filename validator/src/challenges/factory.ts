import type { DatasetRow } from '@veracity/models';
import { type Label, LABELS, MODALITIES, type Modality, MODALITY_NAMES, perModality } from '@veracity/protocol';
import { Rng } from '../random.js';
import {
  applyAugment,
  type AugmentLevel,
  type AugmentParams,
  decodeSource,
  type DecodedImage,
  drawAugment,
  FORMAT_MIX,
  MIME,
  VIDEO_FORMAT_MIX,
} from './augment.js';
import { ChallengeDataset } from './dataset.js';
import type { GeneratedSource } from './generated.js';
import type { GeneratedVideoSource } from './generated-video.js';
import { extractFrames } from './video.js';

/** The output formats each modality's media is re-encoded to (see VIDEO_FORMAT_MIX for why clips are JPEG only). */
const OUTPUT_FORMATS: Record<Modality, typeof FORMAT_MIX> = { image: FORMAT_MIX, video: VIDEO_FORMAT_MIX };

export interface ChallengeConfig {
  /** Share of each label (default 50 / 35 / 15). */
  labelMix: Record<Label, number>;
  /** Share of each modality (default: MODALITIES' challengeShare, 80 % image). */
  modalityMix: Record<Modality, number>;
  /** Share of each augmentation level. */
  levelMix: Record<AugmentLevel, number>;
  /** Frames per video challenge. */
  videoFrames: number;
  seed: number | string;
  /** Decoded sources kept in memory (bytes of RGB pixels), so an item drawn again is not decoded again. */
  cacheBytes: number;
  /**
   * Percent of image items of each label taken from the generated source when one is given. Equal shares keep
   * "made from the validator's pool" free of label information.
   */
  generatedShare: Record<Label, number>;
  /** The same for video items and the generated video source. */
  generatedVideoShare: Record<Label, number>;
}

export const DEFAULT_CHALLENGE_CONFIG: ChallengeConfig = {
  labelMix: { real: 50, synthetic: 35, semisynthetic: 15 },
  modalityMix: perModality((m) => MODALITIES[m].challengeShare),
  levelMix: { none: 10, geometric: 30, medium: 35, hard: 25 },
  videoFrames: 8,
  seed: 'veracity',
  cacheBytes: 256 * 1024 * 1024,
  generatedShare: { real: 50, synthetic: 50, semisynthetic: 50 },
  generatedVideoShare: { real: 50, synthetic: 50, semisynthetic: 50 },
};

/**
 * How often each label is asked of the generated source, relatively: the label mix times its generated share (of
 * images; pass generatedVideoShare for the video source). It sizes the source's per-label queues (AheadOptions.demand).
 */
export function generatedDemand(
  config: Pick<ChallengeConfig, 'labelMix' | 'generatedShare'>,
  share: Record<Label, number> = config.generatedShare,
): Record<Label, number> {
  return Object.fromEntries(LABELS.map((l) => [l, config.labelMix[l] * share[l]])) as Record<Label, number>;
}

/**
 * Where an item came from: the static set, the generated source, or the static set because the generated source
 * had nothing ready for a draw that asked it (a fallback: generation lags the rounds).
 */
export type ItemOrigin = 'static' | 'generated' | 'fallback';

function countsByOrigin(): Record<ItemOrigin, Record<Label, number>> {
  return {
    static: { real: 0, synthetic: 0, semisynthetic: 0 },
    generated: { real: 0, synthetic: 0, semisynthetic: 0 },
    fallback: { real: 0, synthetic: 0, semisynthetic: 0 },
  };
}

/** One drawn source item, decoded once; every miner of a round gets its own variant of it. */
export interface PreparedItem {
  /** Names the item in logs; never sent. */
  key: string;
  label: Label;
  modality: Modality;
  /** One decoded image, or the decoded frames of a clip. */
  frames: DecodedImage[];
  /** Where it came from (kept in the validator's log, never sent to miners). */
  source: { path: string; group: string };
  /** Variants drawn so far: variant n is a pure function of the seed, the item and n. */
  variants: number;
  rng: Rng;
  origin: ItemOrigin;
}

/** What one miner receives: its own id and bytes for an item. */
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
  /** The item this is a variant of. */
  item: string;
}

/** Least-recently-used decoded sources, bounded by their pixel bytes. */
class DecodeCache {
  private readonly map = new Map<string, DecodedImage[]>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): DecodedImage[] | undefined {
    const v = this.map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, v: DecodedImage[]): void {
    const size = v.reduce((s, f) => s + f.data.length, 0);
    if (size > this.maxBytes) return;
    this.map.set(key, v);
    this.bytes += size;
    while (this.bytes > this.maxBytes) {
      const [oldest, frames] = this.map.entries().next().value as [string, DecodedImage[]];
      this.map.delete(oldest);
      this.bytes -= frames.reduce((s, f) => s + f.data.length, 0);
    }
  }
}

/**
 * Draws challenges from a dataset: label by mix, item at random, decoded once (and cached); then one variant per
 * miner, each with its own crop, size, format and quality drawn from a forked stream. Deterministic under the seed:
 * item n and its variant k are the same bytes on every run.
 */
export class ChallengeFactory {
  private readonly rng: Rng;
  private counter = 0;
  private readonly cache: DecodeCache;
  /** Dataset files that failed to read or decode, so an operator can fix the set. */
  readonly unreadable: Array<{ path: string; error: string }> = [];
  /** Items drawn since start, by origin and label. */
  readonly origins: Record<ItemOrigin, Record<Label, number>> = countsByOrigin();
  /** The same, per modality. */
  readonly modalityOrigins: Record<Modality, Record<ItemOrigin, Record<Label, number>>> = perModality(countsByOrigin);

  /**
   * `generated`: the background source of fresh image items (generated.ts), `generatedVideo` of fresh clips
   * (generated-video.ts); without them every item is static and the stream is what it always was under the seed.
   */
  constructor(
    readonly dataset: ChallengeDataset,
    readonly config: ChallengeConfig = DEFAULT_CHALLENGE_CONFIG,
    readonly generated?: GeneratedSource,
    readonly generatedVideo?: GeneratedVideoSource,
  ) {
    this.rng = new Rng(config.seed);
    this.cache = new DecodeCache(config.cacheBytes ?? DEFAULT_CHALLENGE_CONFIG.cacheBytes);
  }

  /** Decode cache hits and misses since start. */
  get cacheStats(): { hits: number; misses: number } {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }

  /** Draws and decodes the next item. */
  async item(): Promise<PreparedItem> {
    // A corrupt file costs one retry, not a round; five in a row means the set itself is broken.
    for (let attempt = 0; attempt < 5; attempt++) {
      const n = this.counter++;
      const rng = this.rng.fork(n);
      const modality = this.pickModality(rng);
      const label = this.dataset.sampleLabel(rng, modality, this.config.labelMix);
      let origin: ItemOrigin = 'static';
      const image = modality === 'image';
      const source = image ? this.generated : this.generatedVideo;
      const shares = image ? this.config.generatedShare : this.config.generatedVideoShare;
      const share = (shares ?? DEFAULT_CHALLENGE_CONFIG.generatedShare)[label];
      if (source && share > 0 && rng.chance(share / 100)) {
        // Never waits: a generated item is taken only if one is ready, else this draw is served statically.
        const g = source.take(label);
        if (g) {
          this.counted('generated', modality, label);
          return {
            key: `item-${n}`,
            label,
            modality,
            frames: 'frame' in g ? [g.frame] : g.frames,
            source: g.source,
            variants: 0,
            rng: rng.fork('variants'),
            origin: 'generated',
          };
        }
        origin = 'fallback';
      }
      const row = this.dataset.sampleRow(rng, label, modality);
      try {
        const item = await this.decode(rng, row, modality, n, origin);
        this.counted(origin, modality, label);
        return item;
      } catch (e) {
        // Published on the status page: library errors may quote the file's absolute path, so it is redacted.
        this.unreadable.push({ path: row.path, error: this.dataset.redact(e instanceof Error ? e.message : String(e)) });
        this.dataset.quarantine(row);
      }
    }
    throw new Error(`five dataset items in a row failed to prepare; last: ${JSON.stringify(this.unreadable.at(-1))}`);
  }

  private counted(origin: ItemOrigin, modality: Modality, label: Label): void {
    this.origins[origin][label]++;
    this.modalityOrigins[modality][origin][label]++;
  }

  /** The next variant of `item`: its own id, crop, size, format and quality. */
  async variant(item: PreparedItem): Promise<PreparedChallenge> {
    const rng = item.rng.fork(`variant-${item.variants++}`);
    const id = Array.from({ length: 4 }, () => rng.u32().toString(16).padStart(8, '0')).join('');
    const augment = drawAugment(rng, rng.weighted(this.config.levelMix), OUTPUT_FORMATS[item.modality]);
    const noise = rng.fork('noise');
    const media: Buffer[] = [];
    for (const frame of item.frames) media.push(await applyAugment(frame, augment, noise));
    return {
      id,
      label: item.label,
      modality: item.modality,
      media,
      mime: MIME[augment.format.type],
      augment,
      source: item.source,
      item: item.key,
    };
  }

  /** `count` variants of `item`, encoded concurrently (libvips runs them on its thread pool). */
  async variants(item: PreparedItem, count: number): Promise<PreparedChallenge[]> {
    // Draw the parameters in order first, so the bytes do not depend on which encode finishes first.
    const jobs = Array.from({ length: count }, () => this.variant(item));
    return Promise.all(jobs);
  }

  /** One item with one variant: a single challenge (tests, benchmarks, one-miner rounds). */
  async next(): Promise<PreparedChallenge> {
    return this.variant(await this.item());
  }

  private pickModality(rng: Rng): Modality {
    const mix = { ...this.config.modalityMix };
    for (const m of MODALITY_NAMES) {
      if (LABELS.every((l) => this.dataset.count(l, m) === 0)) mix[m] = 0;
    }
    return rng.weighted(mix);
  }

  private async decode(rng: Rng, row: DatasetRow, modality: Modality, n: number, origin: ItemOrigin): Promise<PreparedItem> {
    const path = this.dataset.path(row);
    // A clip's frames come from a random window on its first draw and are kept with it: cutting 8 frames takes
    // ffmpeg seconds, and the per-miner crops, sizes and qualities already make every draw new bytes.
    const offset = rng.next();
    let frames = this.cache.get(path);
    if (frames === undefined) {
      // Checked at use, not only at load: a regular file inside the folder (a FIFO would block the reader forever).
      const clip = MODALITIES[modality].frames === 'many';
      const file = await this.dataset.open(row, !clip);
      frames = clip ? await extractFrames(file.path, this.config.videoFrames, offset) : [await decodeSource(file.bytes!)];
      this.cache.set(path, frames);
    }
    return {
      key: `item-${n}`,
      label: row.label,
      modality,
      frames,
      source: { path: row.path, group: row.group },
      variants: 0,
      rng: rng.fork('variants'),
      origin,
    };
  }
}
