/** The JSON the validator serves at /api/status and its status page renders. */
export interface MinerStatus {
  hotkey: string;
  uid: number | null;
  connected: boolean;
  answers: { image: number; video: number };
  scores: { image: number | null; video: number | null; total: number };
  weight: number;
  lastSeen: number;
  /** Size of the copy group this hotkey is flagged in (answers agree far more than accuracies explain); absent if none. */
  copyGroup?: number;
}

/** Copy detection: hotkey groups whose answer streams agree far more than their accuracies explain. */
export interface CopyingStatus {
  /** 'flag' only shows them; 'share' gives each group one miner's share of the weights. */
  policy: 'flag' | 'share';
  groups: Array<{
    hotkeys: string[];
    /** The member that answered first in most rounds (the likely source), if one did; it keeps its share. */
    leader?: string;
    /** The weakest evidence joining the group: fewest shared rounds, lowest z, widest median |P gap|. */
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

export interface StatusSnapshot {
  validator: { version: string; hotkey: string | null; netuid: number | null; startedAt: number };
  chain: ChainStatus;
  rounds: number;
  miners: MinerStatus[];
  weights: Array<{ at: number; weights: Record<string, number>; status: string; detail?: string }>;
  unreadable: Array<{ path: string; error: string }>;
  copying: CopyingStatus;
}
