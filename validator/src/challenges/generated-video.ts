/**
 * Video challenges the validator makes itself, ahead of time, from a pool of real clips (issue 24), as generated.ts
 * makes image challenges from real photos. The frames a video challenge carries are cut from the clip as for a
 * static clip (video.ts extractFrames: `videoFrames` frames evenly spread over a random window), then one square crop
 * (side 256-320, a multiple of 8; smaller than the image side because a clip is 8 round trips) at the same place in
 * every frame, and by the label asked for:
 *
 * - `real`: the frames as they are;
 * - `synthetic`: every frame's encode -> decode round trip through one latent-diffusion autoencoder family drawn for
 *   the clip (tae.ts), as a video generator's decoder leaves its trace on every frame;
 * - `semisynthetic`: one soft-edged region, drawn once and fixed across the frames (an edited object stays where it
 *   is), replaced by the round trip in every frame.
 *
 * Then every item, whatever its label, goes through one H.264 encode and decode (libx264, yuv420p, a drawn CRF;
 * models' h264RoundTrip): the frames of a real clip carry a video codec's blocks and chroma subsampling, and frames
 * that came out of an autoencoder would not, so without it "no codec trace" would mean "AI". With it the three labels
 * have the same codec history: the source clip's own codec, then the same one extra encode. Miners never see a
 * container, a duration or a clip size: they get the frames, each miner its own crop, size and JPEG quality of them
 * (factory.ts variants), as for static clips.
 *
 * Generation runs in the background into one bounded queue per label (ahead.ts), in the same niced round-trip
 * process as the images; `take` never waits.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Label } from '@veracity/models';
import { h264RoundTrip } from '@veracity/models/node';
import type { Rng } from '../random.js';
import { type AheadOptions, type AheadStatus, MadeAhead } from './ahead.js';
import type { DecodedImage } from './augment.js';
import type { ChallengeDataset } from './dataset.js';
import { cropSquare, pasteRegion, poolFiles, regionMask } from './generated.js';
import { GenerationError, GenerationErrorCode, type RoundTripper } from './tae.js';
import { extractFrames } from './video.js';

/** Clip files a pool folder may hold (what ffmpeg reads). */
const CLIP_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.webm', '.mkv', '.avi']);

/** A pool of real clips generated video items are made from. Names are relative paths: logged, never sent. */
export interface ClipPool {
  readonly kind: 'folder' | 'dataset';
  readonly size: number;
  pick(rng: Rng): string;
  /** The clip's path, checked to be a regular file (a FIFO would block ffmpeg forever). */
  file(name: string): Promise<string>;
  /** Stops drawing a clip that failed to read or is too small. */
  drop(name: string): void;
}

/** A clip pool over `names`, each resolved to a checked path by `file`. */
function clipPool(kind: ClipPool['kind'], names: string[], where: string, file: ClipPool['file']): ClipPool {
  return {
    kind,
    get size() {
      return names.length;
    },
    pick(rng) {
      if (names.length === 0) throw new GenerationError(GenerationErrorCode.RealPool, `no usable clip left in ${where}`);
      return rng.pick(names);
    },
    file,
    drop(name) {
      const i = names.indexOf(name);
      if (i >= 0) names.splice(i, 1);
    },
  };
}

/** A folder of real clips (searched recursively, hidden entries skipped): the validator's own, never published. */
export async function folderClipPool(dir: string): Promise<ClipPool> {
  const root = resolve(dir);
  const names = await poolFiles(root, CLIP_EXTENSIONS, 'real-clip pool', 'video files');
  return clipPool('folder', names, root, async (name) => {
    const path = join(root, name);
    const fd = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!(await fd.stat()).isFile()) throw new Error(`${name} is not a regular file`);
    } finally {
      await fd.close();
    }
    return path;
  });
}

/** The real video rows of the static dataset as the pool (when no private clip folder is configured). */
export function datasetClipPool(dataset: ChallengeDataset): ClipPool {
  const rows = dataset.rows.filter((r) => r.label === 'real' && r.modality === 'video');
  if (rows.length === 0)
    throw new GenerationError(GenerationErrorCode.RealPool, `the dataset at ${dataset.root} has no real clips to generate from`);
  const byPath = new Map(rows.map((r) => [r.path, r]));
  return clipPool('dataset', [...byPath.keys()], 'the dataset', async (name) => {
    const row = byPath.get(name);
    if (!row) throw new Error(`${name} is not in the pool`);
    return (await dataset.open(row, false)).path;
  });
}

/** One clip made ahead: its decoded frames, its label and where it came from (logged, never sent). */
export interface GeneratedClip {
  label: Label;
  frames: DecodedImage[];
  /** The autoencoder family its frames went through; null for a real clip. */
  family: string | null;
  source: { path: string; group: string };
}

export interface VideoGenerationOptions extends AheadOptions {
  /** Frames per clip (the factory's videoFrames). */
  frames: number;
  /** Crop side range in pixels (multiples of 8). */
  side?: readonly [number, number];
  /** x264 constant rate factor range of the one encode every item goes through. */
  crf?: readonly [number, number];
}

/**
 * Default crop sides for clips: >= 256 as for images (smaller inputs reconstruct with edge effects), <= 320 to bound
 * a clip's cost (8 round trips); the per-miner variants are 192-320 px anyway.
 */
export const GENERATED_VIDEO_SIDE: readonly [number, number] = [256, 320];
/** CRF range of the H.264 pass: 18 is near transparent, 28 a streaming-site encode. */
export const GENERATED_VIDEO_CRF: readonly [number, number] = [18, 28];
/** The frame rate the frames are encoded at: a constant, so it is the same for every label. */
const ENCODE_FPS = 8;

export interface VideoGenerationStatus extends AheadStatus {
  pool: { kind: 'folder' | 'dataset'; clips: number };
  families: string[];
}

export class GeneratedVideoSource extends MadeAhead<GeneratedClip> {
  private readonly side: readonly [number, number];
  private readonly crf: readonly [number, number];
  private readonly frames: number;

  constructor(
    readonly pool: ClipPool,
    readonly tae: RoundTripper,
    options: VideoGenerationOptions,
  ) {
    super('generated-video', options);
    this.frames = options.frames;
    this.side = options.side ?? GENERATED_VIDEO_SIDE;
    this.crf = options.crf ?? GENERATED_VIDEO_CRF;
  }

  status(): VideoGenerationStatus {
    return { pool: { kind: this.pool.kind, clips: this.pool.size }, families: [...this.tae.families], ...this.aheadStatus() };
  }

  /** One clip of `label`, from a real clip drawn with `rng`. */
  async make(label: Label, rng: Rng): Promise<GeneratedClip> {
    const t0 = performance.now();
    const name = this.pool.pick(rng);
    let frames: DecodedImage[];
    try {
      frames = await extractFrames(await this.pool.file(name), this.frames, rng.next());
    } catch (e) {
      this.pool.drop(name);
      throw new GenerationError(GenerationErrorCode.RealPool, `${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const { width, height } = frames[0]!;
    const hi = Math.floor(Math.min(width, height, this.side[1]) / 8) * 8;
    if (hi < this.side[0]) {
      this.pool.drop(name);
      throw new GenerationError(GenerationErrorCode.RealPool, `${name}: ${width}x${height} is under ${this.side[0]} px`);
    }
    const side = rng.int(this.side[0] / 8, hi / 8) * 8;
    const left = rng.int(0, width - side);
    const top = rng.int(0, height - side);
    let out = frames.map((f) => cropSquare(f, left, top, side));
    let family: string | null = null;
    if (label !== 'real') {
      family = rng.pick(this.tae.families);
      // One region for the whole clip: an edit stays where it is from frame to frame.
      const mask = label === 'semisynthetic' ? await regionMask(side, rng) : undefined;
      const made: DecodedImage[] = [];
      // One frame at a time: the round-trip process runs them one by one anyway, and this bounds memory.
      for (const crop of out) {
        const full = await this.tae.roundTrip(family, crop);
        made.push(mask ? await pasteRegion(crop, full, mask) : full);
      }
      out = made;
    }
    const coded = await h264RoundTrip(
      out.map((f) => f.data),
      side,
      side,
      { crf: rng.int(this.crf[0], this.crf[1]), fps: ENCODE_FPS },
    );
    this.count(family ?? 'clip', t0);
    return {
      label,
      frames: coded.map((data) => ({
        data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        width: side,
        height: side,
      })),
      family,
      source: {
        path: `${this.pool.kind}:${name}`,
        group: family ? `generated-video-tae-${family}` : 'generated-video-real',
      },
    };
  }
}
