/**
 * Challenges the validator makes itself, ahead of time, from a pool of real photos (issue 24): a photo is cropped
 * (a square, side 256-448, a multiple of 8: the autoencoders reconstruct smaller inputs with edge effects) and then,
 * by the label asked for,
 *
 * - `real`: the crop as it is;
 * - `synthetic`: the crop's encode -> decode round trip through a latent-diffusion autoencoder family drawn at
 *   random (tae.ts), which leaves only that decoder's trace;
 * - `semisynthetic`: the crop with only a random soft-edged region (ellipse, rectangle or brush blob, 8-50 % of the
 *   area, feathered edge, as make_tae_pairs.py / data.py's region_mask draw it) replaced by the round trip.
 *
 * Any of the three is then, with the same chance, re-encoded (JPEG, quality 80-95) before it is kept, so whether an
 * item went through an extra encode says nothing about its label; every miner still gets its own crop, size,
 * format and quality of the item (factory.ts variants), as for static items.
 *
 * Generation runs in the background into one bounded queue per label ("generated ahead", ahead.ts); `take` never
 * waits: an empty queue answers undefined and the factory serves a static item instead (and counts it).
 */
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import type { Label } from '@veracity/models';
import sharp from 'sharp';
import type { Rng } from '../random.js';
import { type AheadOptions, type AheadStatus, MadeAhead } from './ahead.js';
import { decodeSource, type DecodedImage } from './augment.js';
import type { ChallengeDataset } from './dataset.js';
import { GenerationError, GenerationErrorCode, type RoundTripper } from './tae.js';

/** Image files a pool folder may hold (what libvips or the ffmpeg fallback decode). */
const POOL_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.avif', '.bmp', '.gif', '.heic']);
/** Largest pool photo read (a 100-megapixel JPEG is ~40 MB). */
const MAX_POOL_FILE_BYTES = 128 * 1024 * 1024;

/** A pool of real photos generated items are made from. Names are relative paths: logged, never sent to miners. */
export interface RealPool {
  readonly kind: 'folder' | 'dataset';
  /** Photos left to draw from. */
  readonly size: number;
  pick(rng: Rng): string;
  read(name: string): Promise<Buffer>;
  /** Stops drawing a photo that failed to read or decode, or is too small. */
  drop(name: string): void;
}

/**
 * The files under `root` (recursively, hidden entries skipped, 8 levels at most) whose extension is in `extensions`,
 * as sorted relative paths; E_REAL_POOL when the folder cannot be read or holds none. `what` names the pool and
 * `files` what it should hold, for the error.
 */
export async function poolFiles(root: string, extensions: Set<string>, what: string, files: string): Promise<string[]> {
  const names: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      throw new GenerationError(GenerationErrorCode.RealPool, `cannot read the ${what} ${d} (${e.code ?? e.message})`);
    });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory() && depth < 8) await walk(p, depth + 1);
      else if (e.isFile() && extensions.has(extname(e.name).toLowerCase())) names.push(relative(root, p));
    }
  };
  await walk(root, 0);
  if (names.length === 0)
    throw new GenerationError(
      GenerationErrorCode.RealPool,
      `the ${what} ${root} holds no ${files} (${[...extensions].join(' ')})`,
    );
  return names.sort();
}

/**
 * A folder of real photos (searched recursively, hidden entries skipped): the validator's own private pool, never
 * published and never in any public set, so a lookup table of public images cannot know its items.
 */
export async function folderPool(dir: string): Promise<RealPool> {
  const root = resolve(dir);
  const names = await poolFiles(root, POOL_EXTENSIONS, 'real-photo pool', 'image files');
  return {
    kind: 'folder',
    get size() {
      return names.length;
    },
    pick(rng) {
      if (names.length === 0) throw new GenerationError(GenerationErrorCode.RealPool, `no usable photo left in ${root}`);
      return rng.pick(names);
    },
    async read(name) {
      // Non-blocking open and a regular-file check: a FIFO dropped into the folder is refused, not waited on.
      const fd = await open(join(root, name), constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const stat = await fd.stat();
        if (!stat.isFile()) throw new Error(`${name} is not a regular file`);
        if (stat.size > MAX_POOL_FILE_BYTES) throw new Error(`${name}: ${stat.size} bytes is over ${MAX_POOL_FILE_BYTES}`);
        return await fd.readFile();
      } finally {
        await fd.close();
      }
    },
    drop(name) {
      const i = names.indexOf(name);
      if (i >= 0) names.splice(i, 1);
    },
  };
}

/** The real image rows of the static dataset as the pool (when no private pool is configured). */
export function datasetPool(dataset: ChallengeDataset): RealPool {
  const rows = dataset.rows.filter((r) => r.label === 'real' && r.modality === 'image');
  if (rows.length === 0)
    throw new GenerationError(GenerationErrorCode.RealPool, `the dataset at ${dataset.root} has no real images to generate from`);
  const byPath = new Map(rows.map((r) => [r.path, r]));
  const names = [...byPath.keys()];
  return {
    kind: 'dataset',
    get size() {
      return names.length;
    },
    pick(rng) {
      if (names.length === 0) throw new GenerationError(GenerationErrorCode.RealPool, 'no usable real image left in the dataset');
      return rng.pick(names);
    },
    async read(name) {
      const row = byPath.get(name);
      if (!row) throw new Error(`${name} is not in the pool`);
      return (await dataset.open(row, true)).bytes!;
    },
    drop(name) {
      const i = names.indexOf(name);
      if (i >= 0) names.splice(i, 1);
    },
  };
}

/** One item made ahead: a decoded image, its label and where it came from (logged, never sent). */
export interface GeneratedItem {
  label: Label;
  frame: DecodedImage;
  /** The autoencoder family it went through; null for a real photo. */
  family: string | null;
  source: { path: string; group: string };
}

export interface GenerationOptions extends AheadOptions {
  /** Crop side range in pixels (multiples of 8). */
  side?: readonly [number, number];
  /** Chance that an item, whatever its label, is re-encoded (JPEG 80-95) before it is kept. */
  reencode?: number;
}

/** Default crop sides: >= 256 (smaller inputs reconstruct with edge effects), <= 448 as the training triplets. */
export const GENERATED_SIDE: readonly [number, number] = [256, 448];

/** What the status page and /metrics show about generation. */
export interface GenerationStatus extends AheadStatus {
  pool: { kind: 'folder' | 'dataset'; photos: number };
  families: string[];
}

export class GeneratedSource extends MadeAhead<GeneratedItem> {
  private readonly side: readonly [number, number];
  private readonly reencode: number;

  constructor(
    readonly pool: RealPool,
    readonly tae: RoundTripper,
    options: GenerationOptions,
  ) {
    super('generated', options);
    this.side = options.side ?? GENERATED_SIDE;
    this.reencode = options.reencode ?? 0.5;
  }

  status(): GenerationStatus {
    return { pool: { kind: this.pool.kind, photos: this.pool.size }, families: [...this.tae.families], ...this.aheadStatus() };
  }

  /** One item of `label`, from a photo drawn with `rng`. */
  async make(label: Label, rng: Rng): Promise<GeneratedItem> {
    const t0 = performance.now();
    const name = this.pool.pick(rng);
    let photo: DecodedImage;
    try {
      photo = await decodeSource(await this.pool.read(name));
    } catch (e) {
      this.pool.drop(name);
      throw new GenerationError(GenerationErrorCode.RealPool, `${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const hi = Math.floor(Math.min(photo.width, photo.height, this.side[1]) / 8) * 8;
    if (hi < this.side[0]) {
      this.pool.drop(name);
      throw new GenerationError(
        GenerationErrorCode.RealPool,
        `${name}: ${photo.width}x${photo.height} is under ${this.side[0]} px`,
      );
    }
    const side = rng.int(this.side[0] / 8, hi / 8) * 8;
    const crop = cropSquare(photo, rng.int(0, photo.width - side), rng.int(0, photo.height - side), side);
    let frame = crop;
    let family: string | null = null;
    if (label !== 'real') {
      family = rng.pick(this.tae.families);
      const full = await this.tae.roundTrip(family, crop);
      frame = label === 'synthetic' ? full : await pasteRegion(crop, full, await regionMask(side, rng));
    }
    if (rng.chance(this.reencode)) frame = await reencodeJpeg(frame, rng.int(80, 95));
    this.count(family ?? 'photo', t0);
    return {
      label,
      frame,
      family,
      source: { path: `${this.pool.kind}:${name}`, group: family ? `generated-tae-${family}` : 'generated-real' },
    };
  }
}

/** A side x side square of `src` at (left, top), copied row by row. */
export function cropSquare(src: DecodedImage, left: number, top: number, side: number): DecodedImage {
  const data = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    const from = ((top + y) * src.width + left) * 3;
    src.data.copy(data, y * side * 3, from, from + side * 3);
  }
  return { data, width: side, height: side };
}

/**
 * A soft-edged mask (one byte per pixel, 255 = replaced): one ellipse, rectangle or brush-stroke blob covering
 * 8-50 % of the square, feathered by a Gaussian of 1-4 % of the side: data.py's region_mask, drawn by libvips.
 */
export async function regionMask(side: number, rng: Rng): Promise<Buffer> {
  const kind = rng.int(0, 2);
  const area = rng.range(0.08, 0.5) * side * side;
  const aspect = Math.exp(rng.range(-0.7, 0.7));
  const w = Math.min(side, Math.floor(Math.sqrt(area * aspect)));
  const h = Math.min(side, Math.floor(area / Math.max(w, 1)));
  const l = rng.int(0, side - w);
  const t = rng.int(0, side - h);
  let shape: string;
  if (kind === 0) shape = `<ellipse cx="${l + w / 2}" cy="${t + h / 2}" rx="${w / 2}" ry="${h / 2}" fill="#fff"/>`;
  else if (kind === 1) shape = `<rect x="${l}" y="${t}" width="${w}" height="${h}" fill="#fff"/>`;
  else {
    // A brush blob: a chain of thick strokes inside the box, like a user's inpainting mask.
    const points = Array.from(
      { length: rng.int(3, 6) },
      () => `${(l + rng.range(0, w)).toFixed(1)},${(t + rng.range(0, h)).toFixed(1)}`,
    );
    const width = Math.max(8, Math.floor(Math.min(w, h) * rng.range(0.3, 0.6)));
    shape = `<polyline points="${points.join(' ')}" fill="none" stroke="#fff" stroke-width="${width}" stroke-linejoin="round" stroke-linecap="round"/>`;
  }
  const feather = side * rng.range(0.01, 0.04);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="${side}" height="${side}" fill="#000"/>${shape}</svg>`;
  return sharp(Buffer.from(svg)).blur(Math.max(0.3, feather)).extractChannel(0).raw().toBuffer();
}

/** `crop` with `full` pasted in where `mask` says (out = crop * (1 - m) + full * m), by libvips. */
export async function pasteRegion(crop: DecodedImage, full: DecodedImage, mask: Buffer): Promise<DecodedImage> {
  const raw = { width: crop.width, height: crop.height };
  const overlay = await sharp(full.data, { raw: { ...raw, channels: 3 } })
    .joinChannel(mask, { raw: { ...raw, channels: 1 } })
    .raw()
    .toBuffer();
  const data = await sharp(crop.data, { raw: { ...raw, channels: 3 } })
    .composite([{ input: overlay, raw: { ...raw, channels: 4 } }])
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data, ...raw };
}

/** The image through one JPEG encode and decode at `quality`. */
export async function reencodeJpeg(img: DecodedImage, quality: number): Promise<DecodedImage> {
  const jpeg = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
