import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';

describe('Rng', () => {
  it('is reproducible under a seed and differs across seeds', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.u32()
      )(new Rng(42)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.u32()
      )(new Rng(42)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.u32()
      )(new Rng('42')),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('draws uniformly enough and respects weights', () => {
    const r = new Rng(7);
    const n = 20000;
    let sum = 0;
    let lo = 1;
    let hi = 0;
    const counts = { real: 0, synthetic: 0, semisynthetic: 0 };
    for (let i = 0; i < n; i++) {
      const v = r.next();
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
      counts[r.weighted({ real: 50, synthetic: 35, semisynthetic: 15 })]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 1);
    expect(counts.real / n).toBeCloseTo(0.5, 1);
    expect(counts.synthetic / n).toBeCloseTo(0.35, 1);
    expect(counts.semisynthetic / n).toBeCloseTo(0.15, 1);
    expect(new Set(Array.from({ length: 1000 }, () => r.int(3, 5)))).toEqual(new Set([3, 4, 5]));
  });
});
