/**
 * Every known miner's standing now: its score from its answer windows (scoring.ts), the copy policy and the unpublished-bundle share applied, and
 * the normalised weight that becomes its on-chain weight. Read by the weights cycle, the status page, benchmarks
 * and tests; ValidatorServer.scores() calls it with its store, policy and copy report. No clock, no sockets.
 */
import { MODALITY_NAMES, weightShares } from '@veracity/protocol';
import { type CopyReport, shareGroups } from './copying.js';
import { type MinerScore, scoreMiner, type ScoringPolicy } from './scoring.js';
import type { Store } from './store.js';

export interface MinerStanding {
  /** The score weights are drawn from: `detail.score`, or its share of a copy group's under the 'share' policy. */
  score: number;
  /** Share of the weight vector (see @veracity/protocol weightShares). */
  weight: number;
  /** Per-modality windows and the score before any copy sharing. */
  detail: MinerScore;
  uid: number | null;
}

/**
 * Scores every miner the store knows from its newest `policy.window` answers per modality. `share`: the copy
 * groups whose members split one share (the 'share' copy policy), or null to leave scores as they are.
 */
export function minerStandings(
  store: Pick<Store, 'miners' | 'window'>,
  policy: ScoringPolicy,
  share: Pick<CopyReport, 'groups' | 'leaders'> | null,
  /** Multiplies each score after sharing: a miner not running the bundle it published is scored as unpublished. */
  factor?: (hotkey: string) => number,
): Map<string, MinerStanding> {
  const per = new Map<string, { detail: MinerScore; uid: number | null }>();
  for (const m of store.miners()) {
    const records = MODALITY_NAMES.flatMap((modality) => store.window(m.hotkey, modality, policy.window));
    per.set(m.hotkey, { detail: scoreMiner(records, policy), uid: m.uid });
  }
  let scores = new Map([...per].map(([k, v]) => [k, v.detail.score]));
  if (share) scores = shareGroups(scores, share.groups, share.leaders);
  if (factor) scores = new Map([...scores].map(([k, s]) => [k, s * factor(k)]));
  const weights = weightShares(scores);
  return new Map(
    [...per].map(([k, v]) => [k, { score: scores.get(k) ?? 0, weight: weights.get(k) ?? 0, detail: v.detail, uid: v.uid }]),
  );
}
