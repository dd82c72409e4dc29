import { describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { crossValidatedAuc, featureAucs, features, FEATURE_NAMES, fitLogistic, jpegQuality, predictLogistic } from './leakage.js';

const STD = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112,
  100, 103, 99,
];

/** SOI + one DQT segment holding table `id` scaled as libjpeg does for quality q, + SOS. */
function jpegHeader(q: number, id = 0): Uint8Array {
  const s = q < 50 ? 5000 / q : 200 - 2 * q;
  const table = STD.map((v) => Math.max(1, Math.min(255, Math.floor((v * s + 50) / 100))));
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 67, id, ...table, 0xff, 0xda, 0, 2]);
}

describe('jpegQuality', () => {
  it.each([30, 50, 75, 90, 95])('recovers the IJG quality %i from the luminance table', (q) => {
    expect(Math.abs(jpegQuality(jpegHeader(q))! - q)).toBeLessThanOrEqual(1);
  });

  it('is undefined for other formats, a chroma table only, or a truncated file', () => {
    expect(jpegQuality(Uint8Array.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    expect(jpegQuality(jpegHeader(75, 1))).toBeUndefined();
    expect(jpegQuality(Uint8Array.from([0xff, 0xd8]))).toBeUndefined();
  });
});

describe('metadata leakage', () => {
  const rng = new Rng('leak');
  const sample = (informative: boolean) => {
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 600; i++) {
      const label = rng.chance(0.5) ? 1 : 0;
      // Informative: AI items are 512x512 PNGs, real ones JPEGs of any size (what the raw public set looks like).
      const width = informative && label ? 512 : rng.int(256, 640);
      const height = informative && label ? 512 : rng.int(256, 640);
      const format = informative ? (label ? 'png' : 'jpeg') : rng.pick(['png', 'jpeg', 'webp']);
      X.push(
        features({
          width,
          height,
          bytes: rng.int(20_000, 200_000),
          format,
          quality: format === 'jpeg' ? rng.int(50, 95) : undefined,
        }),
      );
      y.push(label);
    }
    return { X, y };
  };

  it('finds a label that size and format give away', () => {
    const { X, y } = sample(true);
    expect(crossValidatedAuc(X, y)).toBeGreaterThan(0.95);
    expect(featureAucs(X, y).is_png).toBeGreaterThan(0.95);
  });

  it('scores near 0.5 when the fields are drawn independently of the label', () => {
    const { X, y } = sample(false);
    const a = crossValidatedAuc(X, y);
    expect(a).toBeGreaterThan(0.4);
    expect(a).toBeLessThan(0.6);
  });

  it('fits a separable feature and keeps names and vectors aligned', () => {
    const X = Array.from({ length: 200 }, (_, i) => [i % 2 ? 3 : -3, rng.gaussian()]);
    const y = X.map((x) => (x[0]! > 0 ? 1 : 0));
    const m = fitLogistic(X, y);
    expect(predictLogistic(m, [3, 0])).toBeGreaterThan(0.9);
    expect(predictLogistic(m, [-3, 0])).toBeLessThan(0.1);
    expect(features({ width: 4, height: 2, bytes: 8, format: 'jpeg', quality: 80 })).toHaveLength(FEATURE_NAMES.length);
  });
});
