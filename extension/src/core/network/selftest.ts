/**
 * The self-test a downloaded model passes before the extension switches to it. It runs on images that ship inside
 * the extension's code (generated here, so no third-party photo is packaged and every install tests the same
 * pixels), and checks what can be checked without knowing the right answers:
 *   - shape: one result per image, three probabilities each;
 *   - valid probabilities: finite, in [0, 1], summing to 1 (within 1e-3);
 *   - batch independence: each image scored alone gives what it got in the batch (within 1e-3): a model whose answer
 *     depends on its batch neighbours (batch norm left in training mode) scores a page differently from a single image;
 *   - input dependence: not every image gets the same P(AI) (to 1e-6): a model that ignores its input is broken,
 *     whatever its constant is.
 * Pure: the offscreen document runs the detector and passes the results here.
 */
import type { RawImage } from '@veracity/models';
import { pAI } from '@veracity/protocol/domain';
import { ExtensionError, ExtensionErrorCode } from '../errors.js';

const SIZE = 96;

/** Three 96 px RGB images: smooth gradients, fine hashed noise, and a hard-edged checkerboard. */
export function selfTestImages(): RawImage[] {
  const make = (pixel: (x: number, y: number) => [number, number, number]): RawImage => {
    const data = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) data.set(pixel(x, y), (y * SIZE + x) * 3);
    return { data, width: SIZE, height: SIZE, channels: 3 };
  };
  const hash = (x: number, y: number) => (Math.imul(x * 374761393 + y * 668265263, 2246822519) >>> 24) & 0xff;
  return [
    make((x, y) => [(x * 255) / SIZE, (y * 255) / SIZE, 128 + 100 * Math.sin(x / 7) * Math.cos(y / 11)]),
    make((x, y) => [hash(x, y), hash(y + 7, x), hash(x + 13, y + 5)]),
    make((x, y) => (((x >> 3) + (y >> 3)) % 2 === 0 ? [240, 240, 230] : [20, 30, 40])),
  ];
}

export interface SelfTestReport {
  images: number;
  /** P(AI) per image, batch run. */
  ai: number[];
  /** Largest difference between a batch and a single-image probability. */
  batchDiff: number;
}

const TOLERANCE = 1e-3;

/** Checks a model's answers on selfTestImages(); throws E_BUNDLE_SELF_TEST naming the first rule broken. */
export function judgeSelfTest(batch: ArrayLike<number>[], singles: ArrayLike<number>[], images: number): SelfTestReport {
  const fail = (why: string) =>
    new ExtensionError(ExtensionErrorCode.BundleSelfTest, `the downloaded model fails its self-test: ${why}`);
  if (batch.length !== images || singles.length !== images) throw fail(`${batch.length} results for ${images} images`);
  let batchDiff = 0;
  for (const [i, p] of batch.entries()) {
    const s = singles[i]!;
    if (p.length !== 3 || s.length !== 3) throw fail(`image ${i} got ${p.length} probabilities, not 3`);
    for (const q of [p, s]) {
      const values = Array.from(q);
      if (!values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1))
        throw fail(`image ${i}: probabilities ${values.join(', ')} are not in [0, 1]`);
      const sum = values.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > TOLERANCE) throw fail(`image ${i}: probabilities sum to ${sum}, not 1`);
    }
    for (let k = 0; k < 3; k++) batchDiff = Math.max(batchDiff, Math.abs(p[k]! - s[k]!));
  }
  if (batchDiff > TOLERANCE)
    throw fail(`an image scored alone differs from the same image in a batch by ${batchDiff.toFixed(4)}`);
  const ai = batch.map(pAI);
  if (Math.max(...ai) - Math.min(...ai) < 1e-6) throw fail(`every test image gets P(AI) ${ai[0]}: the model ignores its input`);
  return { images, ai, batchDiff };
}
