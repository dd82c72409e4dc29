/**
 * The validator's view of the model channel: for each miner, the bundle its on-chain commitment names, the sha256 it
 * declared in auth, and whether they match. A miner that declares a bundle it did not publish is reported (log once
 * per change, a /metrics counter, the status flag) and scored as unpublished: its weight is multiplied by
 * `unpublishedShare`. Pure apart from the tracker's log and counter.
 */
import { decodeModelCommitment } from '@veracity/protocol';
import type { Logger } from '../log.js';
import type { LeaderboardRow, MinerBundle, MinerStatus } from '../status/types.js';

const short = (sha: string) => sha.slice(0, 12);

/**
 * A miner's bundle state from its commitment record (`commitmentOf(...).toJSON()`, undefined when it has none) and
 * what it declared. `chain` false: the validator reads no chain, so nothing can be checked.
 */
export function minerBundle(record: unknown, declared: string | null, chain = true): MinerBundle {
  if (!chain)
    return {
      state: 'unpublished',
      committed: null,
      missing: 'no-chain',
      declared,
      detail: 'no chain configured: commitments are not read',
    };
  const decoded = record === undefined || record === null ? null : decodeModelCommitment(record);
  if (!decoded?.ok) {
    const missing = !decoded ? 'none' : decoded.code === 'E_BAD_COMMITMENT' ? 'bad' : 'not-ours';
    const what =
      missing === 'none'
        ? 'no commitment on chain'
        : missing === 'bad'
          ? `a malformed bundle commitment (${decoded!.message})`
          : 'a commitment that is not a Veracity bundle';
    return declared === null
      ? { state: 'unpublished', committed: null, missing, declared, detail: `${what}; declares no bundle` }
      : {
          state: 'mismatch',
          committed: null,
          missing,
          declared,
          detail: `declares bundle ${short(declared)}… but has ${what}`,
        };
  }
  const c = decoded.value;
  const committed = { version: c.version, sha256: c.sha256, url: c.url, ...(c.block === undefined ? {} : { block: c.block }) };
  if (declared === null)
    return {
      state: 'unpublished',
      committed,
      declared,
      detail: `committed ${c.version} (${short(c.sha256)}…) but declares no bundle in auth`,
    };
  if (declared !== c.sha256)
    return {
      state: 'mismatch',
      committed,
      declared,
      detail: `declares bundle ${short(declared)}… but committed ${c.version} (${short(c.sha256)}…)`,
    };
  return { state: 'published', committed, declared, detail: `runs its published bundle ${c.version} (${short(c.sha256)}…)` };
}

/** What a miner's score is multiplied by: 1 when published, `unpublishedShare` otherwise (mismatch included). */
export function bundleFactor(b: Pick<MinerBundle, 'state'>, unpublishedShare: number): number {
  return b.state === 'published' ? 1 : unpublishedShare;
}

/** The leaderboard: every miner with its bundle, scores and weight, highest weight first (ties: lower uid first). */
export function leaderboard(
  miners: readonly Pick<MinerStatus, 'uid' | 'hotkey' | 'bundle' | 'scores' | 'weight'>[],
): LeaderboardRow[] {
  return miners
    .map((m) => ({
      uid: m.uid,
      hotkey: m.hotkey,
      version: m.bundle.committed?.version ?? null,
      sha256: m.bundle.committed?.sha256 ?? null,
      state: m.bundle.state,
      scores: m.scores,
      weight: m.weight,
    }))
    .sort((a, b) => b.weight - a.weight || (a.uid ?? Infinity) - (b.uid ?? Infinity) || a.hotkey.localeCompare(b.hotkey));
}

export interface BundleTrackerOptions {
  /** The commitment record of a hotkey as last read with the metagraph; absent: no chain. */
  commitment?: (hotkey: string) => unknown;
  unpublishedShare: number;
  log: Logger;
  /** Counts each change into the mismatch state. */
  onMismatch?: (hotkey: string) => void;
  /**
   * Asked to read the commitments again when a miner declares a bundle the last read does not show: it has most likely
   * just published it (a miner publishes, then connects), and the metagraph's own schedule may be a minute away.
   */
  recheck?: () => void;
}

/** Keeps what each miner declared and reports a state change once (log line, counter) when it happens. */
export class BundleTracker {
  private readonly declared = new Map<string, string | null>();
  private readonly last = new Map<string, string>();

  constructor(private readonly o: BundleTrackerOptions) {}

  get unpublishedShare(): number {
    return this.o.unpublishedShare;
  }

  /**
   * A miner authenticated, declaring `sha256` (or nothing). Nothing is reported here: a declaration the chain does not
   * show yet asks for a fresh read first, and the state is reported when it is next looked at (scores, status).
   */
  declare(hotkey: string, sha256: string | undefined): void {
    this.declared.set(hotkey, sha256 ?? null);
    const c = this.o.commitment;
    if (c && minerBundle(c(hotkey), sha256 ?? null).state === 'mismatch') this.o.recheck?.();
  }

  /** The miner's state now; a change since the last look is logged (a mismatch as a warning) and counted. */
  of(hotkey: string): MinerBundle {
    const b = minerBundle(this.o.commitment?.(hotkey), this.declared.get(hotkey) ?? null, this.o.commitment !== undefined);
    const key = `${b.state}|${b.committed?.sha256 ?? b.missing}|${b.declared}`;
    if (this.last.get(hotkey) !== key) {
      this.last.set(hotkey, key);
      if (b.state === 'mismatch') {
        this.o.onMismatch?.(hotkey);
        this.o.log.warn(`miner bundle mismatch: scored as unpublished (share ${this.o.unpublishedShare})`, {
          hotkey,
          detail: b.detail,
        });
      } else this.o.log.info('miner bundle', { hotkey, state: b.state, detail: b.detail });
    }
    return b;
  }

  /** What `hotkey`'s score is multiplied by now. */
  factor(hotkey: string): number {
    return bundleFactor(this.of(hotkey), this.o.unpublishedShare);
  }
}
