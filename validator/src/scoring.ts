/**
 * Miner scoring, as pure functions over answer windows: no clock, no I/O, so every rule is unit-tested by hand.
 *
 * Per miner and modality the last WINDOW answers count. Each answer is reduced to the binary question the subnet
 * scores (is this AI? synthetic and semisynthetic both count as AI) and the window gets
 *   sn34 = sqrt(((MCC+1)/2)^1.2 * max(0,(0.25-Brier)/0.25)^1.8)
 * A timeout or an invalid answer counts as the most wrong answer possible (full confidence in the wrong class),
 * so silence never scores better than an honest guess. A miner's score is the sum over modalities of the modality's
 * weight (MODALITIES' scoreWeight by default: 0.6 image, 0.4 video) times its sn34; a modality with fewer than
 * MIN_ANSWERS answers contributes 0 until it has enough.
 *
 * Skill beyond chance. sn34 alone gives answers that carry no information about the labels a floor: its MCC term
 * maps MCC 0 to ((0+1)/2)^1.2, and its Brier term is positive for any stream whose Brier is under 0.25, which a
 * label-blind stream reaches by a few lucky confident answers or by answering the window's base rate when it is not
 * exactly one half. Next to a weak honest detector that floor is a share of the weights for nothing (issue 24: a
 * label collector with 1 lucky answer in 149 kept 5.4 % of the honest miner's weight). So a window earns its sn34
 * only when its answers are better than chance: the one-sided Mann-Whitney test that AI items get higher P(AI) than
 * real ones rejects "the answers are independent of the labels" at 5 % (chanceZ below). The test is on the ranks of
 * the answers, so it asks only "do they carry information", not "are they calibrated": calibration is sn34's job.
 */
import { auc as aucOf, brier as brierOf, mcc as mccOf, sn34 } from '@veracity/models';
import { MODALITIES, type Modality, MODALITY_NAMES, perModality } from '@veracity/protocol';

export interface AnswerRecord {
  modality: Modality;
  /** 1 when the challenge was AI (synthetic or semisynthetic), 0 when real. */
  truth: 0 | 1;
  /** The miner's P(AI) = P(synthetic) + P(semisynthetic); null for a timeout or an invalid answer. */
  ai: number | null;
}

export interface ScoringPolicy {
  window: number;
  minAnswers: number;
  modalityWeights: Record<Modality, number>;
  /**
   * A window's sn34 counts only when its chance test's z (chanceZ) reaches this; -Infinity turns the test off.
   */
  beyondChanceZ: number;
}

/** One-sided 5 %: the z a standard normal exceeds with probability 0.05. */
export const BEYOND_CHANCE_Z = 1.645;

export const DEFAULT_POLICY: ScoringPolicy = {
  window: 200,
  minAnswers: 5,
  modalityWeights: perModality((m) => MODALITIES[m].scoreWeight),
  beyondChanceZ: BEYOND_CHANCE_Z,
};

export interface ModalityScore {
  n: number;
  mcc: number;
  brier: number;
  /** The window's sn34, or 0 when its answers are not better than chance (beyondChance false). */
  sn34: number;
  /** The chance test's z (chanceZ): how far the answers' ranking of AI over real items is above chance. */
  z: number;
  /** Did z reach the policy's beyondChanceZ? */
  beyondChance: boolean;
  /** False until the window holds minAnswers answers. */
  scored: boolean;
}

/** The p a missed or invalid answer is scored as: certainty in the wrong class. */
export function effectiveP(a: AnswerRecord): number {
  return a.ai === null ? 1 - a.truth : a.ai;
}

/**
 * The Mann-Whitney z of "AI items get higher P(AI) than real ones": (U - n1*n0/2) / sd(U), where U counts the
 * (AI, real) pairs the answers order rightly (ties one half) and sd(U) is its spread when the answers are independent
 * of the labels, with the usual correction for tied answers (a stream that mostly repeats one value, such as a
 * prior, has far fewer orderings to be lucky with). Under independence z is about standard normal whatever the
 * answers' distribution. 0 when one class is absent or every answer is the same (nothing to test).
 */
export function chanceZ(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = y.length;
  let n1 = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    n1 += y[i] === 1 ? 1 : 0;
    counts.set(p[i] as number, (counts.get(p[i] as number) ?? 0) + 1);
  }
  const n0 = n - n1;
  if (n1 === 0 || n0 === 0) return 0;
  let ties = 0;
  for (const t of counts.values()) ties += t * t * t - t;
  const variance = ((n1 * n0) / 12) * (n + 1 - ties / (n * (n - 1)));
  // U from the AUC (the same rank-sum statistic, ties one half).
  return variance > 0 ? ((aucOf(y, p) - 0.5) * n1 * n0) / Math.sqrt(variance) : 0;
}

/** Score of one modality's window (the newest `policy.window` records, oldest first in the input). */
export function scoreWindow(records: AnswerRecord[], policy: ScoringPolicy = DEFAULT_POLICY): ModalityScore {
  const recent = records.slice(-policy.window);
  const y = recent.map((r) => r.truth);
  const p = recent.map(effectiveP);
  if (recent.length < policy.minAnswers)
    return { n: recent.length, mcc: 0, brier: Number.NaN, sn34: 0, z: 0, beyondChance: false, scored: false };
  const m = mccOf(y, p);
  const b = brierOf(y, p);
  const z = chanceZ(y, p);
  const beyondChance = z >= policy.beyondChanceZ;
  return { n: recent.length, mcc: m, brier: b, sn34: beyondChance ? sn34(m, b) : 0, z, beyondChance, scored: true };
}

export interface MinerScore {
  score: number;
  modalities: Record<Modality, ModalityScore>;
}

/** A miner's combined score from its answers (any order across modalities; chronological within each). */
export function scoreMiner(records: AnswerRecord[], policy: ScoringPolicy = DEFAULT_POLICY): MinerScore {
  const modalities = perModality((m) =>
    scoreWindow(
      records.filter((r) => r.modality === m),
      policy,
    ),
  );
  const score = MODALITY_NAMES.reduce(
    (s, m) => s + (modalities[m].scored ? policy.modalityWeights[m] * modalities[m].sn34 : 0),
    0,
  );
  return { score, modalities };
}
