/**
 * Read-only chain access from the page (@polkadot/api): is the hotkey registered on the netuid, its uid, the
 * weights validators gave it and its incentive. Refreshed on every new block.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { readValidatorStanding, type StandingQueries, type ValidatorStanding, weightShares } from '@veracity/protocol';

export interface ChainStatus {
  block: number;
  registered: boolean;
  uid?: number;
  /** Incentive in [0,1] from the last epoch. */
  incentive?: number;
  /** Weights validators set for this uid: its share of each validator's weights (see @veracity/protocol weightShares). */
  weights: Array<{ validatorUid: number; weight: number }>;
}

export class ChainError extends Error {
  constructor(
    readonly code: 'E_CHAIN_UNREACHABLE' | 'E_NO_SUBNET' | 'E_NOT_SUBTENSOR',
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<
  string,
  ((...args: unknown[]) => Promise<{ toJSON(): unknown; toString(): string }>) & {
    entries?: (...args: unknown[]) => Promise<Array<[{ args: Array<{ toString(): string }> }, { toJSON(): unknown }]>>;
  }
>;

/** `p`, or E_CHAIN_UNREACHABLE once `ms` pass without an answer (a busy or half-dead node never replies). */
async function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ChainError('E_CHAIN_UNREACHABLE', message)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long one status read may take before it is reported as a failure (the next block or poll asks again). */
const STATUS_TIMEOUT_MS = 15_000;

export class ChainWatch {
  private constructor(
    private readonly api: ApiPromise,
    private readonly netuid: number,
  ) {}

  static async connect(endpoint: string, netuid: number, timeoutMs = 20_000): Promise<ChainWatch> {
    const provider = new WsProvider(endpoint, 2_500);
    try {
      const api = await within(
        ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: false }),
        timeoutMs,
        `no answer from ${endpoint} in ${timeoutMs / 1000} s`,
      );
      const q = api.query.subtensorModule as unknown as Query | undefined;
      if (!q?.uids) throw new ChainError('E_NOT_SUBTENSOR', `${endpoint} has no SubtensorModule`);
      const added = await q.networksAdded!(netuid);
      if (added.toString() !== 'true') throw new ChainError('E_NO_SUBNET', `subnet ${netuid} does not exist on ${endpoint}`);
      return new ChainWatch(api, netuid);
    } catch (e) {
      await provider.disconnect().catch(() => undefined);
      throw e instanceof ChainError ? e : new ChainError('E_CHAIN_UNREACHABLE', e instanceof Error ? e.message : String(e));
    }
  }

  /** Registration, weights and incentive of `hotkey` now; E_CHAIN_UNREACHABLE when the node does not answer in time. */
  status(hotkey: string): Promise<ChainStatus> {
    return within(this.read(hotkey), STATUS_TIMEOUT_MS, `no answer from the chain in ${STATUS_TIMEOUT_MS / 1000} s`);
  }

  private async read(hotkey: string): Promise<ChainStatus> {
    const q = this.api.query.subtensorModule as unknown as Query;
    const [header, uidOpt] = await Promise.all([this.api.rpc.chain.getHeader(), q.uids!(this.netuid, hotkey)]);
    const block = header.number.toNumber();
    const uidJson = uidOpt.toJSON();
    if (uidJson === null || uidJson === undefined) return { block, registered: false, weights: [] };
    const uid = Number(uidJson);
    const [incentive, rows] = await Promise.all([
      q.incentive ? q.incentive(this.netuid) : Promise.resolve(undefined),
      q.weights!.entries ? q.weights!.entries(this.netuid) : Promise.resolve([]),
    ]);
    const inc = incentive ? ((incentive.toJSON() as number[])[uid] ?? 0) / 65535 : undefined;
    const weights: ChainStatus['weights'] = [];
    for (const [k, v] of rows) {
      const row = v.toJSON() as Array<[number, number]>;
      const share = weightShares(row.map(([u, w]) => [Number(u), Number(w)] as const)).get(uid);
      if (share !== undefined) weights.push({ validatorUid: Number(k.args[1]!.toString()), weight: share });
    }
    return { block, registered: true, uid, weights, ...(inc === undefined ? {} : { incentive: inc }) };
  }

  /** A validator's registration, permit and stake on this netuid (miners mine only for qualified validators). */
  validatorStanding(hotkey: string): Promise<ValidatorStanding> {
    const q = this.api.query.subtensorModule as unknown as StandingQueries;
    return within(
      readValidatorStanding(q, this.netuid, hotkey),
      STATUS_TIMEOUT_MS,
      `no answer from the chain in ${STATUS_TIMEOUT_MS / 1000} s`,
    );
  }

  /** Calls `fn` on each new block; returns the unsubscribe function. */
  async onBlock(fn: (block: number) => void): Promise<() => void> {
    return this.api.rpc.chain.subscribeNewHeads((h) => fn(h.number.toNumber()));
  }

  async disconnect(): Promise<void> {
    await this.api.disconnect();
  }
}
