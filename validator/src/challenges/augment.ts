import { sharpFallback } from '@veracity/models/node';
import sharp from 'sharp';
import { Rng } from '../random.js';

/**
 * Per-miner challenge variants, so nothing a miner receives can be looked up and nothing outside the pixels says
 * what the label is. A source is decoded once (decodeSource) and every variant is cut from the decoded pixels:
 *
 * - the output size and aspect are drawn on their own, never from the source (a 256x256 face and a 1024x1024 grid
 *   come out at the same distribution of sizes; the crop is fitted to the drawn aspect);
 * - format and quality are drawn on their own (JPEG, WebP or PNG at a random quality);
 * - the encoders write no metadata (no EXIF, no ICC profile, no PNG text chunks: generator tags are gone);
 * - each miner of a round gets its own crop, flip and quality, so two miners never hold the same bytes and a hash
 *   table of the public files matches nothing.
 *
 * Levels add photometric changes on top (colour, blur, noise); the geometry above applies at every level.
 */
export type AugmentLevel = 'none' | 'geometric' | 'medium' | 'hard';
export const AUGMENT_LEVELS: readonly AugmentLevel[] = ['none', 'geometric', 'medium', 'hard'];

export interface AugmentParams {
  level: AugmentLevel;
  /** Output size in pixels, drawn independently of the source. */
  width: number;
  height: number;
  /**
   * Output pixels per source pixel, drawn near 1 (the detector looks at native-resolution detail, which strong
   * resampling erases); raised as far as needed for the crop to fit a small source.
   */
  scale: number;
  /** Where the crop sits in the room left around it, 0..1 on each axis. */
  at: { x: number; y: number };
  flip: boolean;
  color?: { brightness: number; saturation: number; hue: number };
  format: { type: 'png' } | { type: 'jpeg' | 'webp'; quality: number };
  noiseSigma?: number;
  blurSigma?: number;
}

/** Longest side of any challenge image: bounds the bytes on the wire and the miners' decode cost. */
export const MAX_SIDE = 1024;

/**
 * Output longest side, drawn uniformly in this range whatever the source size. The dataset's sources run from
 * 256x256 to 1024x1024, so every one of them can give a crop of this size at a scale near 1: the size says nothing
 * about the source. (256-640 with resampling to fit cost the shipped detector AUC 0.80 -> 0.68 on served challenges.)
 * Down to 192, a crop of a 256x256 face is no longer most of the face: a perceptual-hash lookup over the public set
 * fell from sn34 0.044-0.066 to 0 in bench/lookup-attack.ts, while the shipped detector's sn34 stayed 0.34-0.37.
 */
export const OUTPUT_SIDE: readonly [number, number] = [192, 320];

/** Range of `scale`, drawn log-uniformly. */
export const SCALE: readonly [number, number] = [0.8, 1.25];

/** Output aspect (width / height), drawn log-uniformly in this range. */
export const OUTPUT_ASPECT: readonly [number, number] = [3 / 4, 4 / 3];

/** Shares of the output formats; PNG is rarer because it is the slowest to encode and the largest on the wire. */
export const FORMAT_MIX: Readonly<Record<'jpeg' | 'webp' | 'png', number>> = { jpeg: 60, webp: 25, png: 15 };

/**
 * Video frames are JPEG only: a clip is 8 frames per miner, and WebP/PNG cost 3-5x JPEG to encode. Every clip gets
 * the same, so the format still says nothing about the label (a video challenge says it is a video anyway).
 */
export const VIDEO_FORMAT_MIX: Readonly<Record<'jpeg' | 'webp' | 'png', number>> = { jpeg: 1, webp: 0, png: 0 };

export function drawAugment(rng: Rng, level: AugmentLevel, formats = FORMAT_MIX): AugmentParams {
  const side = rng.int(OUTPUT_SIDE[0], OUTPUT_SIDE[1]);
  const aspect = Math.exp(rng.range(Math.log(OUTPUT_ASPECT[0]), Math.log(OUTPUT_ASPECT[1])));
  const width = aspect >= 1 ? side : Math.round(side * aspect);
  const height = aspect >= 1 ? Math.round(side / aspect) : side;
  const type = rng.weighted(formats);
  const p: AugmentParams = {
    level,
    width,
    height,
    scale: level === 'none' ? 1 : Math.exp(rng.range(Math.log(SCALE[0]), Math.log(SCALE[1]))),
    at: { x: rng.next(), y: rng.next() },
    flip: level !== 'none' && rng.chance(0.5),
    format: type === 'png' ? { type } : { type, quality: rng.int(50, 95) },
  };
  if (level === 'medium' || level === 'hard') {
    p.color = { brightness: rng.range(0.85, 1.15), saturation: rng.range(0.8, 1.2), hue: rng.int(-12, 12) };
  }
  if (level === 'hard') {
    p.noiseSigma = rng.range(2, 8);
    p.blurSigma = rng.chance(0.6) ? rng.range(0.4, 1.4) : 0;
  }
  return p;
}

export const MIME: Record<AugmentParams['format']['type'], string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** A decoded source: 8-bit RGB pixels, row-major, at most MAX_SIDE on its longest side. */
export interface DecodedImage {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes a source once, for any number of variants: EXIF orientation applied, alpha flattened, grey expanded to
 * RGB, shrunk (on load, for JPEG) to MAX_SIDE. Formats libvips has no loader for (BMP, TGA, ...) come through ffmpeg,
 * as the miners' runtime reads them.
 */
export async function decodeSource(input: Buffer | string): Promise<DecodedImage> {
  const decode = (src: Buffer | string) =>
    sharp(src, { failOn: 'error' })
      .rotate()
      .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  const { data, info } = await decode(input).catch(async (e: unknown) => decode(await sharpFallback(input, e)));
  if (info.channels !== 3 || !info.width || !info.height) throw new Error(`decoded to ${info.channels} channels, not RGB`);
  return { data, width: info.width, height: info.height };
}

/** `img` as it is when it fits in MAX_SIDE, else shrunk to fit (decoded video frames come at the clip's size). */
export async function fitDecoded(img: DecodedImage): Promise<DecodedImage> {
  if (Math.max(img.width, img.height) <= MAX_SIDE) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The crop of `src` (in pixels) that `p` asks for: the output size divided by `scale`, shrunk to fit, at `at`. */
export function cropBox(
  src: { width: number; height: number },
  p: AugmentParams,
): { left: number; top: number; width: number; height: number } {
  const fit = Math.min(1, (src.width * p.scale) / p.width, (src.height * p.scale) / p.height);
  const width = Math.max(8, Math.min(src.width, Math.round((p.width / p.scale) * fit)));
  const height = Math.max(8, Math.min(src.height, Math.round((p.height / p.scale) * fit)));
  return {
    left: Math.floor(p.at.x * (src.width - width)),
    top: Math.floor(p.at.y * (src.height - height)),
    width,
    height,
  };
}

/**
 * Gaussian noise is read from one shared table at a seeded offset and odd stride, instead of two PRNG calls, a log
 * and a cosine per channel value: noise is the one per-pixel JavaScript loop on the per-miner path.
 */
const NOISE = (() => {
  const rng = new Rng('veracity-noise-table');
  return Float32Array.from({ length: 1 << 16 }, () => rng.gaussian());
})();

type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];

/**
 * The colour change of `c` as one 3x3 RGB matrix: brightness times a hue rotation times a saturation change, the
 * luminance-preserving matrices of CSS's hue-rotate() and saturate() filters. sharp's modulate() does the same in
 * LCh and cost 8-11 ms of the 11-33 ms of a medium or hard variant (two colourspace conversions per pixel); a
 * matrix costs one multiply-add per channel.
 */
export function colorMatrix(c: NonNullable<AugmentParams['color']>): Matrix3 {
  const [r, g, b] = [0.213, 0.715, 0.072];
  const s = c.saturation;
  const sat: Matrix3 = [
    [r + (1 - r) * s, g - g * s, b - b * s],
    [r - r * s, g + (1 - g) * s, b - b * s],
    [r - r * s, g - g * s, b + (1 - b) * s],
  ];
  const a = (c.hue * Math.PI) / 180;
  const [cos, sin] = [Math.cos(a), Math.sin(a)];
  const hue: Matrix3 = [
    [r + cos * (1 - r) - sin * r, g - cos * g - sin * g, b - cos * b + sin * (1 - b)],
    [r - cos * r + sin * 0.143, g + cos * (1 - g) + sin * 0.14, b - cos * b - sin * 0.283],
    [r - cos * r - sin * (1 - r), g - cos * g + sin * g, b + cos * (1 - b) + sin * b],
  ];
  return hue.map((row) =>
    [0, 1, 2].map((j) => c.brightness * (row[0]! * sat[0]![j]! + row[1]! * sat[1]![j]! + row[2]! * sat[2]![j]!)),
  ) as Matrix3;
}

/**
 * Applies `p` to a decoded source; `noiseSeed` makes the noise reproducible. Returns the encoded image. One libvips
 * pipeline (crop, resize, flip, blur, colour matrix, encode); with noise, the pixels come out once and the colour
 * matrix and the noise are applied in one JavaScript pass before the encode.
 */
export async function applyAugment(src: DecodedImage, p: AugmentParams, noiseSeed: Rng): Promise<Buffer> {
  const box = cropBox(src, p);
  let img = sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .extract(box)
    .resize(p.width, p.height, { fit: 'fill', kernel: 'lanczos3' });
  if (p.flip) img = img.flop();
  // Blur and the colour matrix are both linear, so their order changes nothing but rounding.
  if (p.blurSigma) img = img.blur(Math.max(0.3, p.blurSigma));
  const matrix = p.color ? colorMatrix(p.color) : undefined;
  if (p.noiseSigma) {
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    const out = new Uint8ClampedArray(data.length); // clamps and rounds on store
    const mask = NOISE.length - 1;
    let j = noiseSeed.u32() & mask;
    const stride = (noiseSeed.u32() & mask) | 1; // odd: walks the whole table before repeating
    const sigma = p.noiseSigma;
    const [m0, m1, m2] = matrix ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]]; // prettier-ignore
    for (let i = 0; i < data.length; i += 3) {
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      out[i] = m0[0] * r + m0[1] * g + m0[2] * b + NOISE[j]! * sigma;
      j = (j + stride) & mask;
      out[i + 1] = m1[0] * r + m1[1] * g + m1[2] * b + NOISE[j]! * sigma;
      j = (j + stride) & mask;
      out[i + 2] = m2[0] * r + m2[1] * g + m2[2] * b + NOISE[j]! * sigma;
      j = (j + stride) & mask;
    }
    img = sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } });
  } else if (matrix) {
    img = img.recomb(matrix);
  }
  const f = p.format;
  if (f.type === 'png') return img.png({ compressionLevel: 6 }).toBuffer();
  if (f.type === 'jpeg') return img.jpeg({ quality: f.quality, mozjpeg: false }).toBuffer();
  return img.webp({ quality: f.quality }).toBuffer();
}
