// Probabilities + settings -> what the badge shows. Pure, so the popup, the badge and tests agree on one rule.
import type { MeasuredAuc } from '@veracity/models';
import { DEFAULT_THRESHOLD, isThreshold, pAI, type Probabilities } from '@veracity/protocol/domain';

/**
 * 'experimental': a score from a model whose own test does not back verdicts on this kind of media (see Trust).
 * 'needs-login': no score at all: the image's server would not send it without the user's cookies, and the
 * extension does not fetch as the user.
 */
export type Tone = 'ai' | 'borderline' | 'real' | 'experimental' | 'needs-login';

export interface BadgeView {
  /** Whether a badge is drawn at all (real-looking items only when the user wants them). */
  show: boolean;
  tone: Tone;
  /** P(AI) as a whole percentage, what the badge prints. */
  percent: number;
  colour: string;
  /** A short word for the tooltip and screen readers. */
  text: string;
  flagged: boolean;
}

/**
 * Where the threshold in force comes from: the user's own ('yours'), the operating point of the model that scored
 * the item ('model': its manifest's calibration.threshold, chosen so it flags about 5 % of real photos it was
 * validated on), or DEFAULT_THRESHOLD for a model that names none ('default').
 */
export const THRESHOLD_SOURCES = ['yours', 'model', 'default'] as const;
export type ThresholdSource = (typeof THRESHOLD_SOURCES)[number];

export interface ThresholdInForce {
  value: number;
  source: ThresholdSource;
}

/**
 * The P(AI) at or above which an item is flagged: `own` (the threshold setting) when the user set one, else the
 * operating point of the model that scored it (ModelInfo.threshold), else DEFAULT_THRESHOLD. Per model, so a switch
 * to a network model with another operating point moves the verdicts with it.
 */
export function thresholdInForce(own: number | null, model: { threshold?: number } | undefined): ThresholdInForce {
  if (own !== null) return { value: own, source: 'yours' };
  if (model && isThreshold(model.threshold)) return { value: model.threshold, source: 'model' };
  return { value: DEFAULT_THRESHOLD, source: 'default' };
}

/** The threshold in force and where it came from, in the words the popup and options show. */
export function describeThreshold(t: ThresholdInForce): string {
  const value = t.value.toFixed(2);
  if (t.source === 'yours') return `yours, ${value}`;
  if (t.source === 'model') return `model's operating point, ${value}`;
  return `default, ${value} (this model names no operating point)`;
}

/** Below the threshold but within this margin of it: shown amber, because the model is not sure either way. */
export const BORDERLINE_MARGIN = 0.15;

export const COLOURS: Record<Tone, string> = {
  ai: '#d93025',
  borderline: '#f29900',
  real: '#188038',
  experimental: '#5f6368',
  'needs-login': '#5f6368',
};

/**
 * How far a media kind's scores can be trusted, from the bundle's own test of that kind. Images are what the
 * detector is trained and validated on; video is scored frame by frame with the same image model, and its verdicts
 * count only when the bundle's clip test (metrics.video_clips) shows it ranks clips clearly better than chance.
 */
export interface Trust {
  validated: boolean;
  /** The clip test's AUC and size; null when the bundle has no such test. */
  auc: number | null;
  n: number;
}

/**
 * Video verdicts are drawn red/amber/green only from this clip AUC up: below it a red badge on a real video is
 * about as likely as on an AI one (1.6.0 measured 0.54 on 113 clips, 1.7.0 0.65), and a false "AI" on someone's real footage
 * does more harm than no verdict.
 */
export const MIN_VIDEO_AUC = 0.8;
/** ...on at least this many clips: an AUC from a handful of clips says little. */
export const MIN_VIDEO_CLIPS = 50;

export function videoTrust(evidence: MeasuredAuc | null): Trust {
  if (!evidence) return { validated: false, auc: null, n: 0 };
  return { ...evidence, validated: evidence.auc >= MIN_VIDEO_AUC && evidence.n >= MIN_VIDEO_CLIPS };
}

/** The tooltip's explanation for an unvalidated score, with the numbers it rests on. */
export function trustNote(trust: Trust): string {
  if (trust.auc === null) return 'Experimental: this model has no video test result, so this score is not a verdict.';
  return (
    `Experimental: on ${trust.n} test clips this model tells AI video from real at AUC ${trust.auc.toFixed(2)} ` +
    `(0.50 is chance; verdicts need ${MIN_VIDEO_AUC.toFixed(2)}), so this score is not a verdict.`
  );
}

/** `validated` false (see Trust): grey, never flagged, shown where a validated score would be shown. */
export function badgeView(probabilities: Probabilities, threshold: number, badgeReal: boolean, validated = true): BadgeView {
  const ai = pAI(probabilities);
  const flagged = ai >= threshold;
  const tone: Tone = flagged ? 'ai' : ai >= threshold - BORDERLINE_MARGIN ? 'borderline' : 'real';
  if (!validated) {
    return {
      show: tone !== 'real' || badgeReal,
      tone: 'experimental',
      percent: Math.round(ai * 100),
      colour: COLOURS.experimental,
      text: 'Experimental',
      flagged: false,
    };
  }
  return {
    show: tone !== 'real' || badgeReal,
    tone,
    percent: Math.round(ai * 100),
    colour: COLOURS[tone],
    text: tone === 'ai' ? 'Likely AI' : tone === 'borderline' ? 'Unsure' : 'Looks real',
    flagged,
  };
}

/** The badge of an image that was not scored because it needs the user's login: always shown, never a score. */
export function needsLoginView(): BadgeView {
  return { show: true, tone: 'needs-login', percent: 0, colour: COLOURS['needs-login'], text: 'Not checked', flagged: false };
}

/** The tooltip's explanation for a needs-login badge. */
export function needsLoginNote(imageUrl: string): string {
  let host = 'its server';
  try {
    host = new URL(imageUrl).host;
  } catch {
    // Keep the generic wording.
  }
  return (
    `Not checked: ${host} sends this image only with your login, and Veracity does not fetch images as you ` +
    '(that would let a page learn about what you can see elsewhere).'
  );
}
