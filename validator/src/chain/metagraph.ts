/**
 * The subnet's metagraph read from storage at one block (Keys, ValidatorPermit, LastUpdate, Active, Incentive,
 * Dividends, Owner, TotalHotkeyAlpha, and each hotkey's commitment: the model channel's record), and a watcher that re-reads it every N blocks and reports what changed,
 * notably "uid X changed hotkey" (a deregistration + new registration reusing the uid), so the validator can wipe the
 * history it keeps for that uid.
 */
import { EventEmitter } from 'node:events';
import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { readCommitments } from '../bundle/commitments.js';

export interface Neuron {
  uid: number;
  hotkey: string;
  /** Owning coldkey (Owner map), when the runtime has it. */
  coldkey?: string;
  /** Alpha staked to the hotkey on this subnet (TotalHotkeyAlpha), in alpha units (rao / 1e9). */
  stake?: number;
  validatorPermit: boolean;
  /** Block of the neuron's last weights update (0 = never). */
  lastUpdate: number;
  active: boolean;
  /** Incentive and dividends as fractions (u16 / 65535). */
  incentive: number;
  dividends: number;
}

export interface Metagraph {
  netuid: number;
  block: number;
  blockHash: string;
  /** Sorted by uid. */
  uids: Neuron[];
  byHotkey: Map<string, Neuron>;
  byUid: Map<number, Neuron>;
  /**
   * `commitments.commitmentOf(netuid, hotkey).toJSON()` by hotkey, read at the same block (empty without the pallet):
   * decodeModelCommitment (@veracity/protocol) turns one into the bundle a miner published.
   */
  commitments: Map<string, unknown>;
}

/** Whether a hotkey may mine, and under which uid: what the validator's server asks at each handshake. */
export interface Registration {
  ok: boolean;
  uid?: number;
}

/** Only hotkeys registered on the subnet may mine; the uid is the metagraph's (none read yet: nobody may). */
export function registrationOf(metagraph: Pick<Metagraph, 'byHotkey'> | null | undefined, hotkey: string): Registration {
  const n = metagraph?.byHotkey.get(hotkey);
  return n ? { ok: true, uid: n.uid } : { ok: false };
}

type StorageFn = ((...args: unknown[]) => Promise<Codec>) & {
  entries: (...args: unknown[]) => Promise<[{ args: Codec[] }, Codec][]>;
  multi: (args: unknown[]) => Promise<Codec[]>;
};
type Module = Record<string, StorageFn | undefined>;

const vec = <T>(c: Codec | undefined): T[] => (c ? (c.toJSON() as T[]) : []);

/** Read the metagraph of `netuid` at the head (or at `blockHash`), all from one block. */
export async function readMetagraph(api: ApiPromise, netuid: number, blockHash?: string): Promise<Metagraph> {
  const hash = blockHash ?? (await api.rpc.chain.getFinalizedHead()).toHex();
  const at = await api.at(hash);
  const header = await api.rpc.chain.getHeader(hash);
  const q = at.query.subtensorModule as unknown as Module | undefined;
  if (!q?.keys) throw new Error('this chain has no SubtensorModule (is the endpoint a subtensor node?)');
  const [added, keys, permits, lastUpdate, active, incentive, dividends] = await Promise.all([
    q.networksAdded!(netuid),
    q.keys.entries(netuid),
    q.validatorPermit!(netuid),
    q.lastUpdate!(netuid),
    q.active!(netuid),
    q.incentive ? q.incentive(netuid) : undefined,
    q.dividends ? q.dividends(netuid) : undefined,
  ]);
  if (added.toString() !== 'true') throw new Error(`subnet ${netuid} does not exist at block ${header.number.toNumber()}`);
  const pv = vec<boolean>(permits);
  const lu = vec<number>(lastUpdate);
  const ac = vec<boolean>(active);
  const inc = vec<number>(incentive);
  const div = vec<number>(dividends);
  const rows = keys.map(([k, v]) => ({ uid: Number(k.args[1]!.toString()), hotkey: v.toString() })).sort((a, b) => a.uid - b.uid);
  const hotkeys = rows.map((r) => r.hotkey);
  const [owners, alphas, commitments] = await Promise.all([
    q.owner && hotkeys.length ? q.owner.multi(hotkeys) : Promise.resolve(undefined),
    q.totalHotkeyAlpha && hotkeys.length ? q.totalHotkeyAlpha.multi(hotkeys.map((h) => [h, netuid])) : Promise.resolve(undefined),
    readCommitments(at, netuid),
  ]);
  const uids: Neuron[] = rows.map(({ uid, hotkey }, i) => {
    const n: Neuron = {
      uid,
      hotkey,
      validatorPermit: pv[uid] === true,
      lastUpdate: Number(lu[uid] ?? 0),
      active: ac[uid] === true,
      incentive: Number(inc[uid] ?? 0) / 65535,
      dividends: Number(div[uid] ?? 0) / 65535,
    };
    if (owners) n.coldkey = owners[i]!.toString();
    if (alphas) n.stake = Number(BigInt(alphas[i]!.toString())) / 1e9;
    return n;
  });
  return {
    netuid,
    block: header.number.toNumber(),
    blockHash: hash,
    uids,
    byHotkey: new Map(uids.map((n) => [n.hotkey, n])),
    byUid: new Map(uids.map((n) => [n.uid, n])),
    commitments,
  };
}

export type MetagraphChange =
  | { type: 'registered'; uid: number; hotkey: string }
  | { type: 'deregistered'; uid: number; hotkey: string }
  /** The uid was taken over by another hotkey: wipe everything kept about `from`. */
  | { type: 'hotkey-changed'; uid: number; from: string; to: string }
  | { type: 'permit-changed'; uid: number; hotkey: string; validatorPermit: boolean };

/** What changed between two metagraphs (by uid). Pure. */
export function diffMetagraphs(prev: Pick<Metagraph, 'uids'> | null, next: Pick<Metagraph, 'uids'>): MetagraphChange[] {
  if (!prev) return [];
  const before = new Map(prev.uids.map((n) => [n.uid, n]));
  const after = new Map(next.uids.map((n) => [n.uid, n]));
  const changes: MetagraphChange[] = [];
  for (const [uid, n] of after) {
    const old = before.get(uid);
    if (!old) changes.push({ type: 'registered', uid, hotkey: n.hotkey });
    else if (old.hotkey !== n.hotkey) changes.push({ type: 'hotkey-changed', uid, from: old.hotkey, to: n.hotkey });
    else if (old.validatorPermit !== n.validatorPermit) {
      changes.push({ type: 'permit-changed', uid, hotkey: n.hotkey, validatorPermit: n.validatorPermit });
    }
  }
  for (const [uid, n] of before) if (!after.has(uid)) changes.push({ type: 'deregistered', uid, hotkey: n.hotkey });
  return changes.sort((a, b) => a.uid - b.uid);
}

export interface MetagraphWatcherOptions {
  /** Re-read every this many blocks (default 10). */
  everyBlocks?: number;
}

export interface MetagraphWatcherEvents {
  /** Every successful read (the first one included), with the changes since the previous read. */
  update: [metagraph: Metagraph, changes: MetagraphChange[]];
  /** Each change on its own, after the first read. */
  change: [change: MetagraphChange];
  /** A read failed; the watcher keeps going and tries again at the next due block. */
  error: [error: Error];
}

/**
 * Re-reads the metagraph every `everyBlocks` new heads. `start()` reads once and resolves with it; then 'update' and
 * 'change' events follow. Reads never overlap; a failed read emits 'error' (only when someone listens) and is retried
 * at the next due block.
 */
export class MetagraphWatcher extends EventEmitter<MetagraphWatcherEvents> {
  private unsub: (() => void) | null = null;
  private reading: Promise<Metagraph | null> | null = null;
  private lastReadBlock = -Infinity;
  private latest: Metagraph | null = null;
  readonly everyBlocks: number;

  constructor(
    private readonly api: ApiPromise,
    readonly netuid: number,
    opts: MetagraphWatcherOptions = {},
  ) {
    super();
    this.everyBlocks = Math.max(1, opts.everyBlocks ?? 10);
  }

  /** The last metagraph read (null before the first). */
  get current(): Metagraph | null {
    return this.latest;
  }

  async start(): Promise<Metagraph> {
    if (this.unsub) throw new Error('MetagraphWatcher already started');
    const first = await this.refresh();
    if (!first) throw new Error(`could not read the metagraph of subnet ${this.netuid}`);
    this.unsub = await this.api.rpc.chain.subscribeNewHeads((h) => {
      const n = h.number.toNumber();
      if (n - this.lastReadBlock >= this.everyBlocks) void this.refresh();
    });
    return first;
  }

  /** Read now (or join the read in progress). Resolves null when the read failed ('error' was emitted). */
  refresh(): Promise<Metagraph | null> {
    this.reading ??= (async () => {
      try {
        const next = await readMetagraph(this.api, this.netuid);
        const changes = diffMetagraphs(this.latest, next);
        this.latest = next;
        this.lastReadBlock = next.block;
        this.emit('update', next, changes);
        for (const c of changes) this.emit('change', c);
        return next;
      } catch (e) {
        if (this.listenerCount('error') > 0) this.emit('error', e instanceof Error ? e : new Error(String(e)));
        return null;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }

  stop(): void {
    this.unsub?.();
    this.unsub = null;
  }
}
