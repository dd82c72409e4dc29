import { describe, expect, it } from 'vitest';
import { accuracy, auc, binaryReport, brier, crossEntropy, flagRates, mcc, percentile, sn34 } from './metrics.js';

describe('metrics (hand-computed cases)', () => {
  const y = [0, 0, 1, 1];
  const p = [0.1, 0.6, 0.4, 0.9];

  it('auc counts ordered pairs, ties as one half', () => {
    // pairs (neg,pos): (0.1,0.4) ok, (0.1,0.9) ok, (0.6,0.4) wrong, (0.6,0.9) ok -> 3/4
    expect(auc(y, p)).toBe(0.75);
    expect(auc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(auc([1, 1], [0.2, 0.3])).toBeNaN();
  });

  it('mcc, accuracy and brier at threshold 0.5', () => {
    // predictions 0,1,0,1 -> tp=1 tn=1 fp=1 fn=1 -> mcc 0, accuracy 0.5
    expect(mcc(y, p)).toBe(0);
    expect(accuracy(y, p)).toBe(0.5);
    expect(mcc([0, 1, 1], [0.2, 0.7, 0.8])).toBe(1);
    expect(mcc([0, 0], [0.2, 0.1])).toBe(0);
    // (0.01 + 0.36 + 0.36 + 0.01) / 4
    expect(brier(y, p)).toBeCloseTo(0.185, 12);
  });

  it('cross-entropy in nats, clipped', () => {
    expect(crossEntropy([1], [Math.E ** -2])).toBeCloseTo(2, 12);
    expect(crossEntropy([1], [0])).toBeCloseTo(-Math.log(1e-7), 6);
  });

  it('sn34 combines mcc and brier as the subnet does', () => {
    expect(sn34(1, 0)).toBe(1);
    expect(sn34(-1, 0)).toBe(0);
    expect(sn34(1, 0.25)).toBe(0);
    // sqrt(0.5^1.2 * 0.5^1.8) = sqrt(0.5^3)
    expect(sn34(0, 0.125)).toBeCloseTo(Math.sqrt(0.125), 12);
    const r = binaryReport(y, p);
    expect(r.sn34).toBeCloseTo(sn34(0, 0.185), 12);
    expect(r.n).toBe(4);
  });

  it('percentiles interpolate', () => {
    expect(percentile([3, 1, 2, 4], 50)).toBe(2.5);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5], 95)).toBeCloseTo(4.8, 12);
  });
});

describe('flag rates at a threshold', () => {
  it('counts real items flagged and AI items caught at P(AI) >= threshold', () => {
    const y = [0, 0, 0, 0, 1, 1];
    const p = [0.1, 0.6, 0.86, 0.9, 0.7, 0.95];
    expect(flagRates(y, p, 0.5)).toEqual({ threshold: 0.5, fpr: 0.75, tpr: 1, nReal: 4, nAi: 2 });
    expect(flagRates(y, p, 0.86)).toEqual({ threshold: 0.86, fpr: 0.5, tpr: 0.5, nReal: 4, nAi: 2 });
    expect(flagRates([1], [0.2], 0.5).fpr).toBeNaN();
  });
});
