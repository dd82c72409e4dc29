import { describe, expect, it } from 'vitest';
import type { GenerationView } from '../src/status/types.js';
import { summariseGeneration } from './generation.js';

const view = (over: Partial<GenerationView> = {}): GenerationView => ({
  pool: { kind: 'folder', photos: 120 },
  families: ['sd', 'flux1'],
  ahead: { real: 6, synthetic: 2, semisynthetic: 0 },
  capacity: { real: 12, synthetic: 8, semisynthetic: 4 },
  made: { photo: 30, sd: 4, flux1: 9 },
  seconds: { photo: 3, sd: 2.4, flux1: 6.3 },
  failures: 0,
  lastError: null,
  served: { real: 20, synthetic: 10, semisynthetic: 3 },
  fallbacks: { real: 0, synthetic: 1, semisynthetic: 0 },
  fallbackShare: 1 / 34,
  ...over,
});

describe('generation card', () => {
  it('shows each queue as a fill fraction and families by items made', () => {
    const s = summariseGeneration(view());
    expect(s.queues).toEqual([
      { label: 'real', ahead: 6, capacity: 12, fill: 0.5 },
      { label: 'synthetic', ahead: 2, capacity: 8, fill: 0.25 },
      { label: 'semisynthetic', ahead: 0, capacity: 4, fill: 0 },
    ]);
    expect(s.families.map((f) => f.family)).toEqual(['photo', 'flux1', 'sd']);
    expect(s.families[1]!.secondsEach).toBeCloseTo(0.7);
    expect(s.fallback).toBe('2.9 %');
    expect(s.warning).toBeNull();
  });

  it('warns when generation lags or fails, the failure first', () => {
    expect(summariseGeneration(view({ fallbackShare: 0.5 })).warning).toMatch(/50 % .* does not keep up/);
    const failed = summariseGeneration(view({ fallbackShare: 0.5, failures: 3, lastError: 'E_TAE_RUN: child exited' }));
    expect(failed.warning).toBe('generation failed 3 time(s); last: E_TAE_RUN: child exited');
  });

  it('never divides by zero: an empty queue capacity and a family with no items', () => {
    const s = summariseGeneration(view({ capacity: { real: 0 }, ahead: {}, made: { sd: 0 }, seconds: {} }));
    expect(s.queues).toEqual([{ label: 'real', ahead: 0, capacity: 0, fill: 0 }]);
    expect(s.families).toEqual([{ family: 'sd', made: 0, secondsEach: null }]);
  });
});
