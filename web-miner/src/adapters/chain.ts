/**
 * Read-only chain access from the page (@polkadot/api): is the hotkey registered on the netuid, its uid, the
 * weights validators gave it and its incentive. Refreshed on every new block.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';

export interface ChainStatus {
  block: number;
  registered: boolean;
  uid?: number;
  /** Incentive in [0,1] from the last epoch. */
  incentive?: number;
  /** Weights validators set for this uid, in [0,1] of the u16 range. */
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

export class ChainWatch {
  private constructor(
    private readonly api: ApiPromise,
    private readonly netuid: number,
  ) {}

  static async connect(endpoint: string, netuid: number, timeoutMs = 20_000): Promise<ChainWatch> {
    const provider = new WsProvider(endpoint, 2_500);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ChainError('E_CHAIN_UNREACHABLE', `no answer from ${endpoint} in ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    try {
      const api = await Promise.race([ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: false }), timeout]);
      const q = api.query.subtensorModule as unknown as Query | undefined;
      if (!q?.uids) throw new ChainError('E_NOT_SUBTENSOR', `${endpoint} has no SubtensorModule`);
      const added = await q.networksAdded!(netuid);
      if (added.toString() !== 'true') throw new ChainError('E_NO_SUBNET', `subnet ${netuid} does not exist on ${endpoint}`);
      return new ChainWatch(api, netuid);
    } catch (e) {
      await provider.disconnect().catch(() => undefined);
      throw e instanceof ChainError ? e : new ChainError('E_CHAIN_UNREACHABLE', e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  }

  async status(hotkey: string): Promise<ChainStatus> {
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
      const mine = row.find(([u]) => Number(u) === uid);
      if (mine) weights.push({ validatorUid: Number(k.args[1]!.toString()), weight: Number(mine[1]) / 65535 });
    }
    return { block, registered: true, uid, weights, ...(inc === undefined ? {} : { incentive: inc }) };
  }

  /** Calls `fn` on each new block; returns the unsubscribe function. */
  async onBlock(fn: (block: number) => void): Promise<() => void> {
    return this.api.rpc.chain.subscribeNewHeads((h) => fn(h.number.toNumber()));
  }

  async disconnect(): Promise<void> {
    await this.api.disconnect();
  }
}
