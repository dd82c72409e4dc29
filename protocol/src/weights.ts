/**
 * What "weight" means wherever Veracity shows one (the validator's status page, the web miner, `npm start`'s
 * heartbeat): a miner's **share of one validator's weights**, its weight divided by the sum of the weights that
 * validator gives all miners, in [0, 1] and summing to 1 over the miners.
 *
 * The chain stores u16 values scaled so the largest is 65535 (bittensor's max-upscale); only their ratios carry
 * meaning, so `u16 / 65535` is not a share (the top miner would read 1.0 whatever the others get). A share is what
 * the chain's own consensus uses (each validator's row normalised to sum 1) and what a validator computes from scores.
 */

/** Short label for a column or field showing a share. */
export const WEIGHT_LABEL = 'weight (share)';
/** One sentence for a tooltip or a caption: what the number is. */
export const WEIGHT_MEANING =
  "share of the validator's weights: this miner's weight over the sum it gives all miners (sums to 1)";

/**
 * Weights (scores, or u16 values as read from the chain) -> shares summing to 1. Negative and non-finite values
 * count as 0; when nothing is positive every share is 0 (nobody has earned anything yet).
 */
export function weightShares<K>(weights: Map<K, number> | Iterable<readonly [K, number]>): Map<K, number> {
  const entries = [...(weights instanceof Map ? weights.entries() : weights)];
  const clean = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);
  const total = entries.reduce((s, [, v]) => s + clean(v), 0);
  return new Map(entries.map(([k, v]) => [k, total > 0 ? clean(v) / total : 0]));
}

/** A share as shown on the pages and in logs: three decimals, e.g. 0.336. */
export function formatWeight(share: number): string {
  return share.toFixed(3);
}
