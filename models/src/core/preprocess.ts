import { type RawImage, toRgb } from './image.js';
import type { CropSpec } from './manifest.js';

/**
 * Image -> model input, in plain arithmetic so the browser and Node produce byte-identical tensors.
 *
 * Every crop policy reduces to "resample a box of the source into S x S". The resampler is a separable triangle
 * (bilinear) filter whose support widens with the downscale factor (antialiased, as PIL's BILINEAR), computed in
 * float64 and rounded once with Math.round: JavaScript's float64 arithmetic is the same in every engine, so there is
 * no platform-dependent rounding anywhere after decoding.
 */

/** A source rectangle in pixel coordinates; may be fractional. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
}

/** Filter taps for mapping `outSize` samples onto [offset, offset + length) of an axis `inSize` long. */
function taps(inSize: number, offset: number, length: number, outSize: number): Taps {
  const scale = length / outSize;
  const support = Math.max(scale, 1);
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = offset + (i + 0.5) * scale;
    const lo = Math.max(Math.floor(center - support), 0);
    const hi = Math.min(Math.ceil(center + support), inSize);
    let total = 0;
    let n = 0;
    for (let x = lo; x < hi && n < stride; x++, n++) {
      const w = Math.max(0, 1 - Math.abs((x + 0.5 - center) / support));
      weights[i * stride + n] = w;
      total += w;
    }
    // A box entirely outside the image cannot happen for the policies below; guard anyway so weights stay finite.
    if (total === 0) {
      const nearest = Math.min(Math.max(Math.floor(center), 0), inSize - 1);
      start[i] = nearest;
      count[i] = 1;
      weights[i * stride] = 1;
      continue;
    }
    for (let k = 0; k < n; k++) weights[i * stride + k] = (weights[i * stride + k] as number) / total;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Resamples `box` of an RGB image into an S x S planar (CHW) uint8 tensor written at `out[offset...]`.
 */
export function resampleBoxToChw(rgb: RawImage, box: Box, size: number, out: Uint8Array, offset = 0): void {
  const { width, height, data } = rgb;
  const tx = taps(width, box.x, box.w, size);
  const ty = taps(height, box.y, box.h, size);
  // Horizontal pass over only the rows the vertical pass will read.
  let rowLo = height;
  let rowHi = 0;
  for (let j = 0; j < size; j++) {
    rowLo = Math.min(rowLo, ty.start[j] as number);
    rowHi = Math.max(rowHi, (ty.start[j] as number) + (ty.count[j] as number));
  }
  const rows = rowHi - rowLo;
  const tmp = new Float64Array(rows * size * 3);
  for (let r = 0; r < rows; r++) {
    const rowBase = (rowLo + r) * width * 3;
    for (let i = 0; i < size; i++) {
      const s0 = tx.start[i] as number;
      const n = tx.count[i] as number;
      let a = 0;
      let b = 0;
      let c = 0;
      for (let k = 0; k < n; k++) {
        const w = tx.weights[i * tx.stride + k] as number;
        const p = rowBase + (s0 + k) * 3;
        a += (data[p] as number) * w;
        b += (data[p + 1] as number) * w;
        c += (data[p + 2] as number) * w;
      }
      const t = (r * size + i) * 3;
      tmp[t] = a;
      tmp[t + 1] = b;
      tmp[t + 2] = c;
    }
  }
  const plane = size * size;
  for (let j = 0; j < size; j++) {
    const s0 = (ty.start[j] as number) - rowLo;
    const n = ty.count[j] as number;
    for (let i = 0; i < size; i++) {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let k = 0; k < n; k++) {
        const w = ty.weights[j * ty.stride + k] as number;
        const t = ((s0 + k) * size + i) * 3;
        a += (tmp[t] as number) * w;
        b += (tmp[t + 1] as number) * w;
        c += (tmp[t + 2] as number) * w;
      }
      const o = offset + j * size + i;
      out[o] = clampByte(a);
      out[o + plane] = clampByte(b);
      out[o + 2 * plane] = clampByte(c);
    }
  }
}

function clampByte(v: number): number {
  const r = Math.round(v);
  return Math.min(255, Math.max(0, r));
}

/**
 * The source boxes a crop policy takes from a `width` x `height` image for a model of input size `size`.
 * Native policies keep pixels 1:1 where they can (so generator traces survive) and align boxes to the pixel grid
 * of the (possibly downscaled) image, so a 1:1 crop is an exact copy.
 */
export function cropBoxes(width: number, height: number, size: number, crop: CropSpec): Box[] {
  switch (crop.policy) {
    case 'squash':
      return [{ x: 0, y: 0, w: width, h: height }];
    case 'resize-center': {
      const side = Math.min(width, height);
      return [{ x: (width - side) / 2, y: (height - side) / 2, w: side, h: side }];
    }
    case 'native-center':
    case 'native-five': {
      let k = Math.min(1, crop.maxSide === undefined ? 1 : crop.maxSide / Math.max(width, height));
      if (Math.min(width, height) * k < size) k = size / Math.min(width, height);
      // Work in the scaled image's integer pixel grid, then map back to source coordinates.
      const sw = Math.max(size, Math.round(width * k));
      const sh = Math.max(size, Math.round(height * k));
      const kx = width / sw;
      const ky = height / sh;
      const origins: Array<[number, number]> = [[Math.floor((sw - size) / 2), Math.floor((sh - size) / 2)]];
      if (crop.policy === 'native-five') {
        origins.push([0, 0], [sw - size, 0], [0, sh - size], [sw - size, sh - size]);
      }
      return origins.map(([ox, oy]) => ({ x: ox * kx, y: oy * ky, w: size * kx, h: size * ky }));
    }
  }
}

/** Number of S x S crops a policy produces per image. */
export function cropsPerImage(crop: CropSpec): number {
  return crop.policy === 'native-five' ? 5 : 1;
}

/** All crops of one image as consecutive CHW tensors ([n, 3, S, S] flattened). */
export function imageToTensor(image: RawImage, size: number, crop: CropSpec): Uint8Array {
  const rgb = toRgb(image);
  const boxes = cropBoxes(rgb.width, rgb.height, size, crop);
  const per = 3 * size * size;
  const out = new Uint8Array(boxes.length * per);
  for (const [i, box] of boxes.entries()) resampleBoxToChw(rgb, box, size, out, i * per);
  return out;
}
