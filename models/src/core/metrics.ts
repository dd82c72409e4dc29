/**
 * Binary detection metrics shared by the eval CLI, the training reports and the validator's scoring.
 * Convention: `y` is 1 for AI (synthetic or semisynthetic), 0 for real; `p` is the predicted P(AI).
 */
import { DEFAULT_THRESHOLD } from '@veracity/protocol/domain';

/** ROC AUC by the rank-sum (Mann-Whitney) statistic; ties count one half. NaN when one class is absent. */
export function auc(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = y.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (p[a] as number) - (p[b] as number));
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && p[idx[j + 1] as number] === p[idx[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k] as number] === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface Confusion {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export function confusion(y: ArrayLike<number>, p: ArrayLike<number>, threshold = DEFAULT_THRESHOLD): Confusion {
  const c = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (let i = 0; i < y.length; i++) {
    const predicted = (p[i] as number) >= threshold;
    if (y[i] === 1) {
      if (predicted) c.tp++;
      else c.fn++;
    } else if (predicted) c.fp++;
    else c.tn++;
  }
  return c;
}

/** What a verdict at one threshold does: the share of real items flagged (FPR) and of AI items caught (TPR). */
export interface FlagRates {
  threshold: number;
  /** Real items with P(AI) >= threshold, as a share of real items; NaN when there are none. */
  fpr: number;
  /** AI items with P(AI) >= threshold, as a share of AI items; NaN when there are none. */
  tpr: number;
  nReal: number;
  nAi: number;
}

export function flagRates(y: ArrayLike<number>, p: ArrayLike<number>, threshold: number): FlagRates {
  const { tp, tn, fp, fn } = confusion(y, p, threshold);
  return { threshold, fpr: fp / (fp + tn), tpr: tp / (tp + fn), nReal: fp + tn, nAi: tp + fn };
}

/** Matthews correlation coefficient; 0 when undefined (a constant prediction or a single class), as sklearn does. */
export function mcc(y: ArrayLike<number>, p: ArrayLike<number>, threshold = DEFAULT_THRESHOLD): number {
  const { tp, tn, fp, fn } = confusion(y, p, threshold);
  const den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return den === 0 ? 0 : (tp * tn - fp * fn) / den;
}

export function accuracy(y: ArrayLike<number>, p: ArrayLike<number>, threshold = DEFAULT_THRESHOLD): number {
  const { tp, tn } = confusion(y, p, threshold);
  return y.length === 0 ? Number.NaN : (tp + tn) / y.length;
}

export function brier(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += ((p[i] as number) - (y[i] as number)) ** 2;
  return y.length === 0 ? Number.NaN : s / y.length;
}

/** Mean binary cross-entropy in nats, with p clipped to [1e-7, 1 - 1e-7] so one confident miss stays finite. */
export function crossEntropy(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i] as number));
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return y.length === 0 ? Number.NaN : s / y.length;
}

/** BitMind SN34's combination: sqrt(((MCC+1)/2)^1.2 * max(0,(0.25-Brier)/0.25)^1.8). */
export function sn34(mccValue: number, brierValue: number): number {
  return Math.sqrt(((mccValue + 1) / 2) ** 1.2 * Math.max(0, (0.25 - brierValue) / 0.25) ** 1.8);
}

/** Linear-interpolated percentile (q in [0,100]) of unsorted values. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Array.from(values).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

export interface BinaryReport {
  n: number;
  auc: number;
  accuracy: number;
  mcc: number;
  brier: number;
  crossEntropy: number;
  sn34: number;
}

export function binaryReport(y: ArrayLike<number>, p: ArrayLike<number>): BinaryReport {
  const m = mcc(y, p);
  const b = brier(y, p);
  return {
    n: y.length,
    auc: auc(y, p),
    accuracy: accuracy(y, p),
    mcc: m,
    brier: b,
    crossEntropy: crossEntropy(y, p),
    sn34: sn34(m, b),
  };
}
