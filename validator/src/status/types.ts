/** The JSON the validator serves at /api/status and its status page renders. */
import type { Modality } from '@veracity/protocol/domain';

export interface MinerStatus {
  hotkey: string;
  uid: number | null;
  connected: boolean;
  /** Answers in each modality's scoring window. */
  answers: Record<Modality, number>;
  /** Each modality's sn34, null until its window holds enough answers; total is the weighted sum. */
  scores: Record<Modality, number | null> & { total: number };
  weight: number;
  lastSeen: number;
  /** Size of the copy group this hotkey is flagged in (answers agree far more than accuracies explain); absent if none. */
  copyGroup?: number;
  /** The bundle it published on chain, the one it declared in auth, and whether they match. */
  bundle: MinerBundle;
}

/**
 * What a miner runs, as the model channel sees it. `published`: it declared in auth the bundle its on-chain commitment
 * names. `mismatch`: it declared a bundle that is not the committed one (or declared one and committed nothing).
 * `unpublished`: it declared nothing (whether or not it committed something), or the validator has no chain to read.
 * Mismatch and unpublished miners are both scored as unpublished (config unpublishedShare).
 */
export type BundleState = 'published' | 'mismatch' | 'unpublished';

export interface MinerBundle {
  state: BundleState;
  /** The bundle its commitment names, when it has a valid one; `block` is where the commitment was written. */
  committed: { version: string; sha256: string; url: string; block?: number } | null;
  /** Why there is no committed bundle: no commitment, another program's record, a malformed one, or no chain. */
  missing?: 'none' | 'not-ours' | 'bad' | 'no-chain';
  /** sha256 it declared in auth on its current (or last) connection; null when it declared none. */
  declared: string | null;
  /** The state in plain words. */
  detail: string;
}

/** One row of the leaderboard: every known miner, by weight (highest first). */
export interface LeaderboardRow {
  uid: number | null;
  hotkey: string;
  /** The committed bundle's version and sha256 (null when none). */
  version: string | null;
  sha256: string | null;
  state: BundleState;
  scores: { image: number | null; video: number | null; total: number };
  weight: number;
}

/** Copy detection: hotkey groups whose answer streams agree far more than their accuracies explain. */
export interface CopyingStatus {
  /** 'flag' only shows them; 'share' gives each group one miner's share of the weights. */
  policy: 'flag' | 'share';
  groups: Array<{
    hotkeys: string[];
    /** The member that answered first in most rounds (the likely source), if one did; it keeps its share. */
    leader?: string;
    /** The weakest evidence joining the group: fewest informative shared rounds, lowest z, widest median |P gap|. */
    shared: number;
    z: number;
    medianGap: number;
  }>;
}

/** The validator's view of the chain. */
export interface ChainStatus {
  endpoint: string | null;
  connected: boolean;
  block: number | null;
  /** When the connection was lost (null while connected or without a chain). */
  disconnectedSince: number | null;
  /** Reconnect attempts since it was lost. */
  reconnectAttempts: number;
  /**
   * The last chain problem not resolved since, in plain words (`code` is the subtensor error name, or e.g.
   * 'Disconnected'); cleared by a reconnect (for 'Disconnected') or weights set, committed or revealed.
   */
  lastError: { at: number; code: string; message: string; chainError?: string } | null;
  /** The subnet's CommitRevealWeightsEnabled as last read (null before the first weights cycle). */
  commitReveal: boolean | null;
  /** Weight commits waiting for their reveal window (u16 values as committed). */
  pendingCommits: Array<{
    commitBlock: number | null;
    revealFirst: number | null;
    revealLast: number | null;
    uids: number[];
    values: number[];
  }>;
  /** First block at which the chain accepts new weights from us (LastUpdate + WeightsSetRateLimit). */
  nextWeightsBlock: number | null;
  lastWeights: { at: number; status: string; detail?: string } | null;
}

/** Challenges the validator makes itself (TAE round trips of its real-photo pool); see challenges/generated.ts. */
export interface GenerationView {
  /** Where the real photos come from: the operator's private folder, or the static dataset's real images. */
  pool: { kind: 'folder' | 'dataset'; photos: number };
  families: string[];
  /** Items ready per label, and the most each queue holds. */
  ahead: Record<string, number>;
  capacity: Record<string, number>;
  /** Items made since start, by family ('photo' for real items), and wall seconds spent on them. */
  made: Record<string, number>;
  seconds: Record<string, number>;
  failures: number;
  lastError: string | null;
  /** Items served from the generated source, and draws that asked for one but got a static item (none ready). */
  served: Record<string, number>;
  fallbacks: Record<string, number>;
  /** fallbacks / (served + fallbacks); 0 before any draw asked. */
  fallbackShare: number;
  /** The generated video source (challenges/generated-video.ts), the same fields; null when video stays static. */
  video?: GeneratedVideoView | null;
}

/** Generated clips: as GenerationView, with the pool counted in clips. */
export interface GeneratedVideoView extends Omit<GenerationView, 'pool' | 'video'> {
  pool: { kind: 'folder' | 'dataset'; clips: number };
}

export interface StatusSnapshot {
  validator: { version: string; hotkey: string | null; netuid: number | null; startedAt: number };
  chain: ChainStatus;
  rounds: number;
  miners: MinerStatus[];
  weights: Array<{ at: number; weights: Record<string, number>; status: string; detail?: string }>;
  unreadable: Array<{ path: string; error: string }>;
  copying: CopyingStatus;
  /** The model channel: miners by weight with their bundles, and what an unpublished miner's weight is multiplied by. */
  bundles: { unpublishedShare: number; leaderboard: LeaderboardRow[] };
  /** null when no TAE models are configured (static challenges only). */
  generation: GenerationView | null;
}
