// Probabilities + settings -> what the badge shows. Pure, so the popup, the badge and tests agree on one rule.

/** [real, synthetic, semisynthetic], as the model bundle's labels. */
export type Probabilities = [number, number, number];

export type Tone = 'ai' | 'borderline' | 'real';

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

/** Below the threshold but within this margin of it: shown amber, because the model is not sure either way. */
export const BORDERLINE_MARGIN = 0.15;

export const COLOURS: Record<Tone, string> = { ai: '#d93025', borderline: '#f29900', real: '#188038' };

export function pAI(p: Probabilities): number {
  return p[1] + p[2];
}

export function badgeView(probabilities: Probabilities, threshold: number, badgeReal: boolean): BadgeView {
  const ai = pAI(probabilities);
  const flagged = ai >= threshold;
  const tone: Tone = flagged ? 'ai' : ai >= threshold - BORDERLINE_MARGIN ? 'borderline' : 'real';
  return {
    show: tone !== 'real' || badgeReal,
    tone,
    percent: Math.round(ai * 100),
    colour: COLOURS[tone],
    text: tone === 'ai' ? 'Likely AI' : tone === 'borderline' ? 'Unsure' : 'Looks real',
    flagged,
  };
}

/** Mean of per-frame probabilities: a video's verdict so far (the bundle's video aggregate is 'mean'). */
export function meanOf(list: Probabilities[]): Probabilities {
  const out: Probabilities = [0, 0, 0];
  if (list.length === 0) return out;
  for (const p of list) for (let i = 0; i < 3; i++) out[i]! += p[i]! / list.length;
  return out;
}
