import { describe, expect, it } from 'vitest';
import type { MinerStatus } from '../src/status/types.js';
import { seriesLabel, tickLabel, timeTicks } from './chart.js';

const miner = (uid: number | null, hotkey: string): MinerStatus => ({
  hotkey,
  uid,
  connected: true,
  answers: { image: 0, video: 0 },
  scores: { image: null, video: null, total: 0 },
  weight: 0,
  lastSeen: 0,
  bundle: { state: 'unpublished', committed: null, declared: null, detail: 'declares no bundle' },
});
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

describe('weights chart', () => {
  it('names a series by uid and short hotkey, not by a bare key', () => {
    const miners = [miner(1, ALICE), miner(null, '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty')];
    expect(seriesLabel('1', miners)).toBe('uid 1 · 5Grwva…GKutQY');
    expect(seriesLabel('7', miners)).toBe('uid 7'); // on chain, but not (or no longer) in the table
    expect(seriesLabel(ALICE, miners)).toBe('uid 1 · 5Grwva…GKutQY'); // no chain: history keyed by hotkey
    expect(seriesLabel('5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', miners)).toBe('5FHneW…M694ty');
  });

  it('puts round ticks on the time axis, at most the number asked for', () => {
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 7);
    const ticks = timeTicks(t0, t0 + 5 * 60_000, 6);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.length).toBeLessThanOrEqual(6);
    const step = ticks[1]! - ticks[0]!;
    expect(step).toBe(60_000);
    for (const t of ticks) {
      expect(t % step).toBe(0);
      expect(t).toBeGreaterThanOrEqual(t0);
      expect(t).toBeLessThanOrEqual(t0 + 5 * 60_000);
    }
    expect(timeTicks(t0, t0 + 40_000, 6)[1]! - timeTicks(t0, t0 + 40_000, 6)[0]!).toBe(10_000);
    expect(timeTicks(t0, t0)).toEqual([t0]); // one weights entry: one tick
    expect(timeTicks(t0 + 1, t0 + 2)).toEqual([t0 + 1]); // no round time inside the span: its start
  });

  it('labels ticks with minutes, and seconds when they are closer than a minute', () => {
    const t = new Date(2026, 0, 1, 9, 5, 30).getTime();
    expect(tickLabel(t, 60_000)).toBe('09:05');
    expect(tickLabel(t, 10_000)).toBe('09:05:30');
  });
});
