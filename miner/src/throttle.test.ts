import { describe, expect, it } from 'vitest';
import { TokenBucket } from './throttle.js';

describe('TokenBucket', () => {
  it('is unlimited at 0', () => {
    const b = new TokenBucket(0, 0);
    for (let i = 0; i < 1000; i++) expect(b.take(0)).toBe(true);
    expect(b.waitMs(0)).toBe(0);
  });

  it('allows a burst, then perMinute on average', () => {
    const b = new TokenBucket(60, 0, 3);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.waitMs(0)).toBe(1000);
    expect(b.take(999)).toBe(false);
    expect(b.take(1000)).toBe(true);
    // Over ten minutes at most 3 + 600 challenges pass.
    let passed = 0;
    for (let t = 1000; t <= 601_000; t += 100) if (b.take(t)) passed++;
    expect(passed).toBeLessThanOrEqual(603);
    expect(passed).toBeGreaterThanOrEqual(599);
  });

  it('defaults the burst to a tenth of a minute, at least 1 and at most 5', () => {
    const take = (b: TokenBucket) => Array.from({ length: 10 }, () => b.take(0)).filter(Boolean).length;
    expect(take(new TokenBucket(1, 0))).toBe(1);
    expect(take(new TokenBucket(12, 0))).toBe(2);
    expect(take(new TokenBucket(600, 0))).toBe(5);
  });

  it('changes rate live without handing out a new burst', () => {
    const b = new TokenBucket(60, 0, 1);
    expect(b.take(0)).toBe(true);
    b.setRate(6, 0, 1);
    expect(b.take(0)).toBe(false);
    expect(b.waitMs(0)).toBe(10_000);
    b.setRate(0, 0);
    expect(b.take(0)).toBe(true);
  });
});
