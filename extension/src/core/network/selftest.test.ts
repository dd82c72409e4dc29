import { describe, expect, it } from 'vitest';
import { judgeSelfTest, selfTestImages } from './selftest.js';

const good = [
  [0.7, 0.2, 0.1],
  [0.3, 0.5, 0.2],
  [0.5, 0.25, 0.25],
];

describe('the self-test a downloaded model passes before the switch', () => {
  it('ships three distinct RGB test images', () => {
    const images = selfTestImages();
    expect(images).toHaveLength(3);
    for (const i of images) expect(i.data.length).toBe(i.width * i.height * 3);
    expect(new Set(images.map((i) => Array.from(i.data.subarray(0, 64)).join())).size).toBe(3);
  });

  it('passes valid, batch-independent, input-dependent probabilities', () => {
    const r = judgeSelfTest(
      good,
      good.map((p) => p.map((v) => v + 1e-5)),
      3,
    );
    expect(r.ai).toEqual([0.30000000000000004, 0.7, 0.5]);
    expect(r.batchDiff).toBeCloseTo(1e-5, 8);
  });

  it.each([
    ['a missing result', [good[0]!, good[1]!], good, /2 results for 3 images/],
    ['two probabilities', [good[0]!, [0.5, 0.5], good[2]!], good, /got 2 probabilities/],
    ['NaN', [[NaN, 0.5, 0.5], good[1]!, good[2]!], good, /not in \[0, 1\]/],
    ['a sum other than 1', [[0.6, 0.6, 0.6], good[1]!, good[2]!], good, /sum to 1\.7/],
    ['batch dependence', good, [good[0]!, [0.5, 0.3, 0.2], good[2]!], /in a batch by 0\.2000/],
    ['a constant output', [good[0]!, good[0]!, good[0]!], [good[0]!, good[0]!, good[0]!], /ignores its input/],
  ])('refuses %s with E_BUNDLE_SELF_TEST', (_what, batch, singles, message) => {
    expect(() => judgeSelfTest(batch, singles, 3)).toThrow(
      expect.objectContaining({ code: 'E_BUNDLE_SELF_TEST', message: expect.stringMatching(message) }),
    );
  });
});
