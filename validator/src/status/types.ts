/** The JSON the validator serves at /api/status and its status page renders. */
export interface MinerStatus {
  hotkey: string;
  uid: number | null;
  connected: boolean;
  answers: { image: number; video: number };
  scores: { image: number | null; video: number | null; total: number };
  weight: number;
  lastSeen: number;
}

export interface StatusSnapshot {
  validator: { version: string; hotkey: string | null; netuid: number | null; startedAt: number };
  chain: {
    endpoint: string | null;
    connected: boolean;
    block: number | null;
    lastWeights: { at: number; status: string; detail?: string } | null;
  };
  rounds: number;
  miners: MinerStatus[];
  weights: Array<{ at: number; weights: Record<string, number>; status: string; detail?: string }>;
  unreadable: Array<{ path: string; error: string }>;
}
