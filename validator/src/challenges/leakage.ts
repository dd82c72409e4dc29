/**
 * Does anything but the pixels tell a challenge's label? A miner sees each challenge's format, size and byte count
 * without running a model; if those predict the label, it earns without detecting. This module measures that: the
 * fields a miner can read from the bytes, and a cross-validated logistic regression on them (AUC 0.5 = no
 * information). Pure: bench/challenge-leakage.ts feeds it challenges, leakage.test.ts checks it by hand.
 */
import { auc } from '@veracity/models';
import { Rng } from '../random.js';

/** The IJG standard luminance quantisation table (JPEG Annex K), zig-zag order is irrelevant for the mean ratio. */
const STD_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112,
  100, 103, 99,
];
const STD_SUM = STD_LUMA.reduce((a, b) => a + b, 0);

/**
 * Estimated IJG quality (1-100) of a baseline JPEG from its first luminance quantisation table (DQT, table 0), or
 * undefined when the bytes are not a JPEG or have no such table. libjpeg scales the standard table by
 * S = q < 50 ? 5000 / q : 200 - 2q (percent); the mean ratio to the standard table recovers S, and S recovers q.
 */
export function jpegQuality(bytes: Uint8Array): number | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker === 0xda || marker === 0xd9) return undefined; // start of scan: no table before it
    if (marker === 0xdb) {
      let j = i + 4;
      const end = i + 2 + length;
      while (j < end) {
        const precision = bytes[j]! >> 4;
        const id = bytes[j]! & 15;
        const size = precision === 0 ? 1 : 2;
        if (id === 0) {
          let sum = 0;
          for (let k = 0; k < 64; k++)
            sum += size === 1 ? bytes[j + 1 + k]! : (bytes[j + 1 + 2 * k]! << 8) | bytes[j + 2 + 2 * k]!;
          const s = (sum / STD_SUM) * 100;
          const q = s <= 100 ? (200 - s) / 2 : 5000 / s;
          return Math.max(1, Math.min(100, Math.round(q)));
        }
        j += 1 + 64 * size;
      }
    }
    i += 2 + length;
  }
  return undefined;
}

/** What a miner can read off a challenge without decoding its pixels. */
export interface ChallengeMetadata {
  width: number;
  height: number;
  bytes: number;
  format: 'jpeg' | 'png' | 'webp' | string;
  /** Estimated JPEG quality; undefined for other formats. */
  quality?: number;
}

export const FEATURE_NAMES = [
  'width',
  'height',
  'aspect',
  'log_pixels',
  'log_bytes',
  'bits_per_pixel',
  'is_jpeg',
  'is_png',
  'is_webp',
  'jpeg_quality',
  'bpp_x_jpeg',
  'bpp_x_png',
  'bpp_x_webp',
] as const;

/** The feature vector (FEATURE_NAMES order); the interactions let a linear model compare bytes within a format. */
export function features(m: ChallengeMetadata): number[] {
  const bpp = (8 * m.bytes) / (m.width * m.height);
  const jpeg = m.format === 'jpeg' ? 1 : 0;
  const png = m.format === 'png' ? 1 : 0;
  const webp = m.format === 'webp' ? 1 : 0;
  return [
    m.width,
    m.height,
    m.width / m.height,
    Math.log(m.width * m.height),
    Math.log(m.bytes),
    bpp,
    jpeg,
    png,
    webp,
    m.quality ?? 0,
    bpp * jpeg,
    bpp * png,
    bpp * webp,
  ];
}

export interface LogisticModel {
  mean: number[];
  std: number[];
  w: number[];
  b: number;
}

/** L2-regularised logistic regression on standardised features, by full-batch gradient descent. */
export function fitLogistic(
  X: number[][],
  y: number[],
  options: { iterations?: number; rate?: number; l2?: number } = {},
): LogisticModel {
  const d = X[0]?.length ?? 0;
  const n = X.length;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((s, x) => s + x[j]!, 0) / n);
  const std = Array.from({ length: d }, (_, j) => Math.sqrt(X.reduce((s, x) => s + (x[j]! - mean[j]!) ** 2, 0) / n) || 1);
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / std[j]!));
  const w = new Array<number>(d).fill(0);
  let b = 0;
  const { iterations = 600, rate = 0.5, l2 = 1e-3 } = options;
  for (let it = 0; it < iterations; it++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const z = Z[i]!;
      let t = b;
      for (let j = 0; j < d; j++) t += w[j]! * z[j]!;
      const err = 1 / (1 + Math.exp(-t)) - y[i]!;
      for (let j = 0; j < d; j++) gw[j]! += err * z[j]!;
      gb += err;
    }
    for (let j = 0; j < d; j++) w[j]! -= rate * (gw[j]! / n + l2 * w[j]!);
    b -= (rate * gb) / n;
  }
  return { mean, std, w, b };
}

export function predictLogistic(m: LogisticModel, x: number[]): number {
  let t = m.b;
  for (let j = 0; j < x.length; j++) t += (m.w[j]! * (x[j]! - m.mean[j]!)) / m.std[j]!;
  return 1 / (1 + Math.exp(-t));
}

/**
 * Out-of-fold AUC of logistic regression: every sample is scored by a model that never saw it, so the figure is
 * what an attacker fitting on past challenges would get on new ones.
 */
export function crossValidatedAuc(X: number[][], y: number[], folds = 5, seed: number | string = 'cv'): number {
  const rng = new Rng(seed);
  const fold = X.map(() => Math.floor(rng.next() * folds));
  const p = new Array<number>(X.length).fill(0.5);
  for (let f = 0; f < folds; f++) {
    const train = X.map((_, i) => i).filter((i) => fold[i] !== f);
    const model = fitLogistic(
      train.map((i) => X[i]!),
      train.map((i) => y[i]!),
    );
    for (let i = 0; i < X.length; i++) if (fold[i] === f) p[i] = predictLogistic(model, X[i]!);
  }
  return auc(y, p);
}

/** AUC of each feature alone, folded to >= 0.5 (a feature that ranks backwards informs as much as one that ranks forwards). */
export function featureAucs(X: number[][], y: number[]): Record<string, number> {
  return Object.fromEntries(
    FEATURE_NAMES.map((name, j) => {
      const a = auc(
        y,
        X.map((x) => x[j]!),
      );
      return [name, Math.max(a, 1 - a)];
    }),
  );
}
