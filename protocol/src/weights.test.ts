import { describe, expect, it } from 'vitest';
import { formatWeight, weightShares } from './weights.js';

describe('weight: a share of one validator weights', () => {
  it('a chain row of u16 values (max-upscaled) reads as shares, not as value / 65535', () => {
    // The row behind the 0.5056 (u16 / 65535) on the web miner and 0.336 (share) on the status page.
    const row = new Map([
      [1, 65535],
      [2, 33135],
    ]);
    const shares = weightShares(row);
    expect(formatWeight(shares.get(2)!)).toBe('0.336');
    expect(formatWeight(shares.get(1)!)).toBe('0.664');
    expect(33135 / 65535).toBeCloseTo(0.5056, 4); // what the web miner used to show for the same weight
  });

  it('the same miner gets the same share from scores and from the u16 row the validator sends', () => {
    const scores = new Map([
      ['a', 0.62],
      ['b', 0.31],
      ['c', 0.07],
    ]);
    const max = Math.max(...scores.values());
    const u16 = new Map([...scores].map(([k, v]) => [k, Math.round((v / max) * 65535)]));
    const fromScores = weightShares(scores);
    const fromChain = weightShares(u16);
    for (const k of scores.keys()) expect(fromChain.get(k)).toBeCloseTo(fromScores.get(k)!, 4);
    expect([...fromScores.values()].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });

  it('negative, NaN and all-zero weights give zero shares, never NaN', () => {
    expect([...weightShares([['x', 0]]).values()]).toEqual([0]);
    expect(
      Object.fromEntries(
        weightShares([
          ['a', -1],
          ['b', Number.NaN],
          ['c', 2],
        ]),
      ),
    ).toEqual({ a: 0, b: 0, c: 1 });
    expect(weightShares([]).size).toBe(0);
  });
});
