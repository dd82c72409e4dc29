import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isVeracityError } from './errors.js';
import { type RawImage, toRgb } from './image.js';
import { cropBoxes, imageToTensor } from './preprocess.js';

/** A deterministic RGB test card: gradients plus a hash-like texture, so any resampling change moves bytes. */
function testCard(width: number, height: number, channels: 3 | 4 = 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      data[o] = (x * 255) / Math.max(1, width - 1);
      data[o + 1] = (y * 255) / Math.max(1, height - 1);
      data[o + 2] = ((x * 7919) ^ (y * 104729)) & 255;
      if (channels === 4) data[o + 3] = 128;
    }
  }
  return { data, width, height, channels };
}

const at = (img: RawImage, x: number, y: number, c: number) => img.data[(y * img.width + x) * img.channels + c];
const chw = (t: Uint8Array, size: number, x: number, y: number, c: number) => t[c * size * size + y * size + x];

describe('preprocess', () => {
  it('native-center copies the centre pixels exactly when no resize is needed', () => {
    const img = testCard(101, 77);
    const t = imageToTensor(img, 32, { policy: 'native-center' });
    const ox = Math.floor((101 - 32) / 2);
    const oy = Math.floor((77 - 32) / 2);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) expect(chw(t, 32, x, y, c)).toBe(at(img, ox + x, oy + y, c));
  });

  it('keeps a flat colour flat at any scale (weights are normalised)', () => {
    for (const [w, h] of [
      [10, 13],
      [640, 480],
      [33, 2000],
    ] as const) {
      const data = new Uint8Array(w * h * 3);
      for (let i = 0; i < data.length; i += 3) data.set([200, 17, 99], i);
      const t = imageToTensor({ data, width: w, height: h, channels: 3 }, 24, { policy: 'resize-center' });
      expect(new Set(t.subarray(0, 576))).toEqual(new Set([200]));
      expect(new Set(t.subarray(576, 1152))).toEqual(new Set([17]));
      expect(new Set(t.subarray(1152))).toEqual(new Set([99]));
    }
  });

  it('antialiases when downscaling: a 1 px checkerboard becomes mid grey, not an aliased pattern', () => {
    const n = 256;
    const data = new Uint8Array(n * n * 3);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) data.fill((x + y) % 2 ? 255 : 0, (y * n + x) * 3, (y * n + x) * 3 + 3);
    const t = imageToTensor({ data, width: n, height: n, channels: 3 }, 64, { policy: 'squash' });
    expect(Math.max(...t.map((v) => Math.abs(v - 127.5)))).toBeLessThanOrEqual(1);
  });

  it('native policies downscale to maxSide first, and upscale images smaller than the input', () => {
    expect(cropBoxes(2000, 1000, 100, { policy: 'native-center', maxSide: 1000 })).toEqual([{ x: 900, y: 400, w: 200, h: 200 }]);
    const [small] = cropBoxes(50, 80, 100, { policy: 'native-center' });
    expect(small?.w).toBeCloseTo(50);
    expect(small?.x).toBe(0);
  });

  it('native-five takes the centre and the four corners', () => {
    const boxes = cropBoxes(300, 200, 100, { policy: 'native-five' });
    expect(boxes.map((b) => [b.x, b.y])).toEqual([
      [100, 50],
      [0, 0],
      [200, 0],
      [0, 100],
      [200, 100],
    ]);
    expect(imageToTensor(testCard(300, 200), 100, { policy: 'native-five' }).length).toBe(5 * 3 * 100 * 100);
  });

  it('replicates grey and drops alpha', () => {
    const grey = toRgb({ data: new Uint8Array([10, 20]), width: 2, height: 1, channels: 1 });
    expect(Array.from(grey.data)).toEqual([10, 10, 10, 20, 20, 20]);
    const rgba = toRgb({ data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), width: 2, height: 1, channels: 4 });
    expect(Array.from(rgba.data)).toEqual([1, 2, 3, 5, 6, 7]);
  });

  it('refuses inconsistent images with E_INVALID_IMAGE', () => {
    const bad = [
      { data: new Uint8Array(5), width: 2, height: 1, channels: 3 },
      { data: new Uint8Array(0), width: 0, height: 1, channels: 3 },
      { data: new Uint8Array(6), width: 2, height: 1, channels: 5 },
    ];
    for (const img of bad) {
      let caught: unknown;
      try {
        imageToTensor(img as RawImage, 8, { policy: 'squash' });
      } catch (e) {
        caught = e;
      }
      expect(isVeracityError(caught, 'E_INVALID_IMAGE')).toBe(true);
    }
  });

  // Golden digests: pre-processing is a contract with the trained model and with every platform. A change here
  // must be deliberate (retrain or re-export), never a side effect; e2e/runtime.spec.ts checks the browser too.
  it('produces the golden tensors for the test card', () => {
    const digest = (t: Uint8Array) => createHash('sha256').update(t).digest('hex').slice(0, 16);
    const card = testCard(413, 297, 4);
    expect({
      resizeCenter: digest(imageToTensor(card, 64, { policy: 'resize-center' })),
      squash: digest(imageToTensor(card, 64, { policy: 'squash' })),
      nativeFive: digest(imageToTensor(card, 64, { policy: 'native-five', maxSide: 200 })),
      upscale: digest(imageToTensor(testCard(20, 30), 64, { policy: 'resize-center' })),
    }).toMatchInlineSnapshot(`
      {
        "nativeFive": "305b51e6356aaa6b",
        "resizeCenter": "4f7dafa127e6688e",
        "squash": "a3377866c403e652",
        "upscale": "29cbefc3813a7073",
      }
    `);
  });
});
