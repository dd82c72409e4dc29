import { ErrorCode, VeracityError } from './errors.js';

/**
 * A decoded image as plain bytes, the only image type the core knows (as in transformers.js): decoders on each
 * platform produce it, everything after decoding is platform-free. Rows are top to bottom, pixels interleaved.
 */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (alpha not premultiplied). */
  channels: 1 | 2 | 3 | 4;
}

/** Larger images are refused before any allocation: 16k x 16k is beyond any real photo or video frame. */
export const MAX_PIXELS = 16384 * 16384;

export function assertRawImage(image: RawImage): void {
  const { width, height, channels, data } = image;
  const problems: string[] = [];
  if (!Number.isInteger(width) || width < 1) problems.push(`width ${width} is not a positive integer`);
  if (!Number.isInteger(height) || height < 1) problems.push(`height ${height} is not a positive integer`);
  if (![1, 2, 3, 4].includes(channels)) problems.push(`channels ${channels} is not 1, 2, 3 or 4`);
  if (problems.length === 0 && width * height > MAX_PIXELS) {
    problems.push(`${width}x${height} exceeds the ${MAX_PIXELS} pixel limit`);
  }
  if (problems.length === 0 && data.length !== width * height * channels) {
    problems.push(`data has ${data.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
  if (problems.length > 0) throw new VeracityError(ErrorCode.InvalidImage, problems.join('; '));
}

/**
 * Returns interleaved RGB. Alpha is dropped rather than composited: decoders hand over un-premultiplied colour, and
 * dropping is the one rule every platform can apply identically.
 */
export function toRgb(image: RawImage): RawImage {
  assertRawImage(image);
  if (image.channels === 3) return image;
  const { width, height, channels, data } = image;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const o = i * 3;
    if (channels >= 3) {
      out[o] = data[s] as number;
      out[o + 1] = data[s + 1] as number;
      out[o + 2] = data[s + 2] as number;
    } else {
      const g = data[s] as number;
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
    }
  }
  return { data: out, width, height, channels: 3 };
}
