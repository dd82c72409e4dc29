import { describe, expect, it } from 'vitest';
import { LatencyWindow, percentile } from './stats.js';

describe('latency stats', () => {
  it('computes nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 0.5)).toBe(50);
    expect(percentile(v, 0.95)).toBe(95);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
  });

  it('keeps a sliding window and ignores nonsense', () => {
    const w = new LatencyWindow(3);
    for (const ms of [100, 1, 2, 3, NaN, -1]) w.add(ms);
    expect(w.count).toBe(3);
    expect(w.p50()).toBe(2);
    expect(w.p95()).toBe(3);
    expect(w.recent(2)).toEqual([2, 3]);
  });
});
