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
 */
import { brier as brierOf, mcc as mccOf, sn34 } from '@veracity/models';
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
}

export const DEFAULT_POLICY: ScoringPolicy = {
  window: 200,
  minAnswers: 5,
  modalityWeights: perModality((m) => MODALITIES[m].scoreWeight),
};

export interface ModalityScore {
  n: number;
  mcc: number;
  brier: number;
  sn34: number;
  /** False until the window holds minAnswers answers. */
  scored: boolean;
}

/** The p a missed or invalid answer is scored as: certainty in the wrong class. */
export function effectiveP(a: AnswerRecord): number {
  return a.ai === null ? 1 - a.truth : a.ai;
}

/** Score of one modality's window (the newest `policy.window` records, oldest first in the input). */
export function scoreWindow(records: AnswerRecord[], policy: ScoringPolicy = DEFAULT_POLICY): ModalityScore {
  const recent = records.slice(-policy.window);
  const y = recent.map((r) => r.truth);
  const p = recent.map(effectiveP);
  if (recent.length < policy.minAnswers) return { n: recent.length, mcc: 0, brier: Number.NaN, sn34: 0, scored: false };
  const m = mccOf(y, p);
  const b = brierOf(y, p);
  return { n: recent.length, mcc: m, brier: b, sn34: sn34(m, b), scored: true };
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
