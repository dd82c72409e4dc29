import { sharpFallback } from '@veracity/models/node';
import sharp from 'sharp';
import type { Rng } from '../random.js';

/**
 * Per-challenge augmentation, so no answer can be looked up by hash and miners must detect, not memorise.
 * Parameters are drawn once per challenge (all frames of a video share them) and applied with sharp (libvips).
 * Every level re-encodes, which also strips metadata that could give the label away (generator tags in PNG text
 * chunks, EXIF camera fields).
 */
export type AugmentLevel = 'none' | 'geometric' | 'medium' | 'hard';
export const AUGMENT_LEVELS: readonly AugmentLevel[] = ['none', 'geometric', 'medium', 'hard'];

export interface AugmentParams {
  level: AugmentLevel;
  /** Crop as fractions of the source: left, top, width, height. */
  crop?: { x: number; y: number; w: number; h: number };
  scale?: number;
  flip?: boolean;
  rotate?: number;
  color?: { brightness: number; saturation: number; hue: number };
  format: { type: 'png' } | { type: 'jpeg' | 'webp'; quality: number };
  noiseSigma?: number;
  blurSigma?: number;
}

/** Longest side of any challenge image: bounds the bytes on the wire and the miners' decode cost. */
export const MAX_SIDE = 1024;

export function drawAugment(rng: Rng, level: AugmentLevel): AugmentParams {
  if (level === 'none') return { level, format: { type: 'png' } };
  const area = rng.range(0.6, 1);
  const aspect = rng.range(0.8, 1.25);
  const w = Math.min(1, Math.sqrt(area * aspect));
  const h = Math.min(1, area / w);
  const p: AugmentParams = {
    level,
    crop: { x: rng.range(0, 1 - w), y: rng.range(0, 1 - h), w, h },
    scale: rng.range(0.5, 1.5),
    flip: rng.chance(0.5),
    rotate: rng.chance(0.5) ? rng.range(-10, 10) : 0,
    format: rng.chance(0.5) ? { type: 'png' } : { type: 'jpeg', quality: rng.int(90, 97) },
  };
  if (level === 'medium' || level === 'hard') {
    p.color = { brightness: rng.range(0.85, 1.15), saturation: rng.range(0.8, 1.2), hue: rng.int(-12, 12) };
    p.format = { type: rng.chance(0.5) ? 'jpeg' : 'webp', quality: rng.int(50, 90) };
  }
  if (level === 'hard') {
    p.noiseSigma = rng.range(2, 8);
    p.blurSigma = rng.chance(0.6) ? rng.range(0.4, 1.4) : 0;
  }
  return p;
}

export const MIME: Record<AugmentParams['format']['type'], string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Applies `p` to encoded image bytes; `noiseSeed` makes the noise reproducible. */
export async function applyAugment(input: Buffer | string, p: AugmentParams, noiseSeed: Rng): Promise<Buffer> {
  let img = sharp(input, { failOn: 'error' }).rotate(); // honour EXIF orientation, then drop EXIF
  // A format libvips has no loader for (BMP, TGA, ...) comes through ffmpeg as PNG, as the miners' runtime reads it.
  const meta = await img.metadata().catch(async (e: unknown) => {
    img = sharp(await sharpFallback(input, e), { failOn: 'error' });
    return img.metadata();
  });
  let width = meta.autoOrient?.width ?? meta.width;
  let height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new Error('image has no dimensions');
  if (p.crop) {
    const left = Math.floor(p.crop.x * width);
    const top = Math.floor(p.crop.y * height);
    const w = Math.max(16, Math.min(width - left, Math.round(p.crop.w * width)));
    const h = Math.max(16, Math.min(height - top, Math.round(p.crop.h * height)));
    img = sharp(await img.extract({ left, top, width: w, height: h }).toBuffer());
    width = w;
    height = h;
  }
  // Rotation grows the bounding box (w|cos| + h|sin| by w|sin| + h|cos|): scale for the rotated size, so a
  // rotated image stays within MAX_SIDE too.
  const rad = ((p.rotate ?? 0) * Math.PI) / 180;
  const [cos, sin] = [Math.abs(Math.cos(rad)), Math.abs(Math.sin(rad))];
  const rotatedSide = (w: number, h: number) => Math.max(w * cos + h * sin, w * sin + h * cos);
  let scale = Math.min(p.scale ?? 1, MAX_SIDE / rotatedSide(width, height));
  // Rounding to whole pixels (and the 16-pixel floor) can still add a pixel: shrink until it fits.
  while (scale < 1 && Math.ceil(rotatedSide(Math.round(width * scale), Math.round(height * scale))) > MAX_SIDE) scale *= 0.999;
  if (scale !== 1) {
    width = Math.max(16, Math.round(width * scale));
    height = Math.max(16, Math.round(height * scale));
    img = img.resize(width, height, { fit: 'fill', kernel: 'lanczos3' });
  }
  if (p.flip) img = img.flop();
  if (p.rotate) img = img.rotate(p.rotate, { background: { r: 0, g: 0, b: 0 } });
  if (p.color) img = img.modulate({ brightness: p.color.brightness, saturation: p.color.saturation, hue: p.color.hue });
  if (p.blurSigma) img = img.blur(Math.max(0.3, p.blurSigma));
  if (p.noiseSigma) {
    const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let i = 0; i < data.length; i++)
      data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + noiseSeed.gaussian() * p.noiseSigma)));
    img = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  }
  const f = p.format;
  if (f.type === 'png') return img.png({ compressionLevel: 6 }).toBuffer();
  if (f.type === 'jpeg') return img.jpeg({ quality: f.quality, mozjpeg: false }).toBuffer();
  return img.webp({ quality: f.quality }).toBuffer();
}
