/**
 * The one writer of the validator's weight history (the store's `weights` table, what the status page charts and
 * /api/status lists). Every weights cycle leaves one row, with a chain or without; the later steps of an on-chain
 * commit (confirmed, revealed, dropped) update that same row. ChainSync writes through here, and so does the
 * no-chain cycle of runValidator, so what a row means is decided in one place.
 */
import type { Store, WeightLog } from './store.js';

export type WeightStatus = WeightLog['status'];

export class WeightHistory {
  constructor(private readonly store: Store) {}

  /** A cycle's weight vector (by uid on chain, by hotkey without one) and what became of it; returns its row id. */
  record(entry: WeightLog): number {
    return this.store.recordWeights(entry);
  }

  /** A later step of the cycle that wrote row `id` (a commit confirmed, revealed or dropped). */
  update(id: number, status: WeightStatus, detail: string): void {
    this.store.updateWeightStatus(id, status, detail);
  }

  /**
   * The cycle of a validator without a chain: the weight vector (hotkey -> share) is still computed and recorded,
   * which is what the status page charts. Nothing to record without miners.
   */
  recordLocal(weights: Map<string, number>, at: number): { ok: boolean; detail: string } {
    if (weights.size === 0) return { ok: false, detail: 'no miners yet' };
    this.record({ at, weights: Object.fromEntries(weights), status: 'pending', detail: 'computed locally; no chain configured' });
    return { ok: true, detail: 'recorded locally' };
  }

  /** The newest `limit` rows, oldest first. */
  recent(limit: number): WeightLog[] {
    return this.store.weightHistory(limit);
  }
}
