// The project's domain vocabulary, defined once: the label set, probability vectors, P(AI), media modalities and
// how a clip's frames become one verdict. Every package imports these from here (the model runtime re-exports
// them), so a label or a modality is added in one place. Pure and dependency-free: the MV3 extension's content
// script and the browser miner's worker import it without pulling in the wire codec or the model runtime.

/** Label order of every probability vector in the project: model output, protocol answers, scores, datasets. */
export const LABELS = ['real', 'synthetic', 'semisynthetic'] as const;
export type Label = (typeof LABELS)[number];

/** [real, synthetic, semisynthetic], each in [0,1], summing to 1. */
export type Probabilities = [number, number, number];

/** P(AI) = P(synthetic) + P(semisynthetic): the binary "is this AI" number badges, scoring and metrics use. */
export function pAI(p: Readonly<ArrayLike<number>>): number {
  return (p[1] as number) + (p[2] as number);
}

/**
 * P(AI) at or above which a verdict is AI when nothing else says where: a bundle without an operating point of its
 * own (an older bundle, a test fixture), and the subnet's scoring, which judges miners' answers at this fixed point.
 */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * A bundle's operating point (its manifest's `calibration.threshold`): the P(AI) at or above which the bundle's
 * verdict is AI, chosen at export as the (1 - target FPR) quantile of its validation real photos' calibrated P(AI)
 * (`calibration.thresholdFpr` is that target, e.g. 0.05), so that it flags about that share of real photos it never
 * trained on. A valid one is a number strictly between 0 and 1.
 */
export function isThreshold(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1;
}

/** The threshold a bundle's verdicts use: its operating point when it has one, DEFAULT_THRESHOLD otherwise. */
export function operatingThreshold(calibration: { threshold?: unknown }): number {
  return isThreshold(calibration.threshold) ? calibration.threshold : DEFAULT_THRESHOLD;
}

/** The average of probability vectors (crops of one image, frames of a clip); [0,0,0] for none. */
export function meanProbabilities(list: readonly Probabilities[]): Probabilities {
  const out: Probabilities = [0, 0, 0];
  for (const p of list) for (let i = 0; i < 3; i++) out[i]! += p[i]! / list.length;
  return out;
}

/**
 * How per-frame probabilities become a clip's (a bundle manifest's `video.aggregate`): their mean, or the frame
 * most confident it is AI (one generated shot spliced into real footage is enough to call the clip AI).
 */
export const FRAME_AGGREGATES = ['mean', 'max-ai'] as const;
export type FrameAggregate = (typeof FRAME_AGGREGATES)[number];

/** A clip's probabilities from its frames' by `rule`; [0,0,0] for no frames. */
export function aggregateFrames(frames: readonly Probabilities[], rule: FrameAggregate): Probabilities {
  if (frames.length === 0) return [0, 0, 0];
  if (rule === 'max-ai') return [...frames.reduce((a, b) => (pAI(b) > pAI(a) ? b : a))] as Probabilities;
  return meanProbabilities(frames);
}

export interface ModalitySpec {
  /** Shown on status pages and in logs. */
  title: string;
  /** Media frames per challenge: exactly one still, or frames sampled from a clip (or the clip itself). */
  frames: 'one' | 'many';
  /** File names that imply this modality in a dataset without a modality column (null: the default, image). */
  extensions: RegExp | null;
  /** Default share of a miner's score from this modality's window (the shares sum to 1). */
  scoreWeight: number;
  /** Default share (percent) of challenges of this modality. */
  challengeShare: number;
}

/**
 * Every modality the subnet challenges miners with. Code that depends on the modality loops over this table
 * (challenge mix, scoring, status, validation, datasets), so a new kind of challenge is one entry here plus what
 * is really new about it (how to decode it, how a miner scores it).
 */
export const MODALITIES = {
  image: { title: 'Image', frames: 'one', extensions: null, scoreWeight: 0.6, challengeShare: 80 },
  video: {
    title: 'Video',
    frames: 'many',
    extensions: /\.(mp4|m4v|webm|mov|mkv|avi|mpe?g|ogv)$/i,
    scoreWeight: 0.4,
    challengeShare: 20,
  },
} as const satisfies Record<string, ModalitySpec>;

export type Modality = keyof typeof MODALITIES;

/** The modalities in table order. */
export const MODALITY_NAMES = Object.keys(MODALITIES) as Modality[];

export function isModality(v: unknown): v is Modality {
  return typeof v === 'string' && Object.hasOwn(MODALITIES, v);
}

/** One value per modality, e.g. a score per modality: `perModality((m) => scoreWindow(byModality[m]))`. */
export function perModality<T>(f: (m: Modality) => T): Record<Modality, T> {
  return Object.fromEntries(MODALITY_NAMES.map((m) => [m, f(m)])) as Record<Modality, T>;
}

/** The modality a file's name implies, for datasets whose manifest has no modality column. */
export function modalityOfPath(path: string): Modality {
  return MODALITY_NAMES.find((m) => MODALITIES[m].extensions?.test(path)) ?? 'image';
}
