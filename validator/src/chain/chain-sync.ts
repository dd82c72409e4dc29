/**
 * Connects the validator to the chain: the metagraph decides who may mine (and under which uid), and the scores
 * become on-chain weights on a schedule: set directly, or committed and revealed later when the subnet has
 * commit-reveal on (read again at every weights cycle, so switching it at runtime is followed).
 *
 * Chain trouble never stops scoring: rounds go on with the last metagraph read, failures are recorded and explained
 * in plain words (logs and the status page), a lost connection is retried with backoff, and a pending commit lives
 * in the SQLite store so a restarted validator still reveals it.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec } from '@polkadot/types/types';
import { backoffDelay } from '@veracity/protocol';
import { type Metagraph, MetagraphWatcher, type Registration, registrationOf } from './metagraph.js';
import {
  commitHash,
  commitWeights,
  randomSalt,
  revealWeights,
  setWeights,
  toU16Weights,
  versionKeyFrom,
  weightsState,
  type PendingCommit,
  type WeightsState,
} from './weights.js';
import type { Logger } from '../log.js';
import type { ChainStatus } from '../status/types.js';
import type { PendingCommitRow, Store, WeightLog } from '../store.js';
import { WeightHistory } from '../weight-history.js';

export interface ChainSyncOptions {
  endpoint: string;
  netuid: number;
  signer: KeyringPair;
  version: string;
  store: Store;
  log: Logger;
  metagraphEveryBlocks?: number;
  /** Reconnect backoff (exponential, full jitter): first ceiling and cap, ms. Default 500 and 8 000. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long the first connection (and each reconnect attempt) may take. Default 15 000 ms. */
  connectTimeoutMs?: number;
}

/** What one weights cycle did. */
export interface WeightsOutcome {
  /** True when weights moved forward on chain (set, committed or revealed). */
  ok: boolean;
  /** 'waiting': nothing due yet (rate limit, or a commit waiting for its reveal window). */
  action: 'set' | 'committed' | 'revealed' | 'waiting' | 'failed';
  /** Plain words, for logs and the status page. */
  detail: string;
  /** Subtensor error name (or 'Disconnected', 'Transport', ...) when it failed. */
  code?: string;
  block?: number;
  /** The u16 weights sent (set, committed or revealed). */
  uids?: number[];
  values?: number[];
}

/** Errors after which a pending commit can never be revealed: forget it. */
const COMMIT_GONE = new Set([
  'NoWeightsCommitFound',
  'ExpiredWeightCommit',
  'InvalidRevealCommitHashNotMatch',
  'CommitRevealDisabled',
  'HotKeyNotRegisteredInSubNet',
]);

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class ChainSync {
  private api?: ApiPromise;
  private provider?: WsProvider;
  private watcher?: MetagraphWatcher;
  private unsubHeads?: () => void;
  private closing = false;
  private isUp = false;
  private reconnecting = false;
  private wakeReconnect?: () => void;
  private queue: Promise<unknown> = Promise.resolve();
  private dueCheckQueued = false;
  block: number | null = null;
  disconnectedSince: number | null = null;
  reconnectAttempts = 0;
  lastError: ChainStatus['lastError'] = null;
  /** CommitRevealWeightsEnabled as last read (null before the first weights cycle). */
  commitReveal: boolean | null = null;
  nextWeightsBlock: number | null = null;

  /** Weight rows are written through the validator's one writer of them (see weight-history.ts). */
  private readonly history: WeightHistory;

  constructor(private readonly o: ChainSyncOptions) {
    this.history = new WeightHistory(o.store);
  }

  /** Connects, reads the metagraph, and follows new heads. Throws when the chain cannot be reached now. */
  async start(): Promise<Metagraph> {
    // Reconnects are ours (autoConnect off): exponential backoff with jitter instead of a fixed 2.5 s, and a log line
    // a person can read for each state change.
    const provider = new WsProvider(this.o.endpoint, false);
    this.provider = provider;
    const api = new ApiPromise({ provider, noInitWarn: true });
    this.api = api;
    // The api emits 'error' for socket errors; they are reported through 'disconnected' (listener avoids noise).
    api.on('error', () => undefined);
    // Rejects on the first socket error; awaited below only when the socket opened, so mark it handled here.
    api.isReadyOrError.catch(() => undefined);
    try {
      if (!(await this.tryConnect())) throw new Error(`nothing answered at ${this.o.endpoint}`);
      await withTimeout(api.isReadyOrError, this.o.connectTimeoutMs ?? 15_000, 'the chain did not send its metadata');
    } catch (e) {
      await api.disconnect().catch(() => undefined);
      throw e;
    }
    this.isUp = true;
    provider.on('disconnected', () => this.onDisconnected());
    provider.on('connected', () => this.onReconnected());

    this.watcher = new MetagraphWatcher(api, this.o.netuid, { everyBlocks: this.o.metagraphEveryBlocks ?? 5 });
    this.watcher.on('update', () => this.clearError('MetagraphReadFailed'));
    this.watcher.on('change', (c) => {
      // A uid whose hotkey changed belongs to someone else now: the old hotkey's history must not follow it.
      if (c.type === 'hotkey-changed') {
        this.o.store.forgetMiner(c.from);
        this.o.log.info('uid changed hotkey: history cleared', { uid: c.uid, from: c.from, to: c.to });
      }
    });
    this.watcher.on('error', (e) => {
      // While disconnected the failure is already reported once; a read failing on a live chain is news.
      if (!this.isUp) return;
      this.setError('MetagraphReadFailed', `could not read the metagraph (retrying at the next due block): ${e.message}`);
      this.o.log.warn(`metagraph read failed (retrying at the next due block): ${e.message}`);
    });
    const first = await this.watcher.start();
    this.block = first.block;
    this.unsubHeads = await api.rpc.chain.subscribeNewHeads((h) => this.onHead(h.number.toNumber()));
    this.o.log.info('metagraph loaded', { netuid: this.o.netuid, neurons: first.uids.length, block: first.block });
    const pending = this.pending();
    if (pending.length > 0) {
      this.o.log.info(`found ${pending.length} weight commit(s) not revealed yet: they will be revealed in their window`, {
        commits: pending.map((p) => ({ commitBlock: p.commitBlock, reveal: [p.revealFirst, p.revealLast] })),
      });
      this.queueDueCheck();
    }
    return first;
  }

  get connected(): boolean {
    return this.isUp && (this.api?.isConnected ?? false);
  }

  /** Only hotkeys registered on the subnet may mine; the uid comes from the metagraph (the last one read while the
   * chain is away). */
  registration = (hotkey: string): Registration => registrationOf(this.watcher?.current, hotkey);

  /** A hotkey's commitment record (the model channel) as read with the last metagraph; undefined when it has none. */
  commitment = (hotkey: string): unknown => this.watcher?.current?.commitments.get(hotkey);

  private lastRecheck = 0;
  private recheckTimer?: NodeJS.Timeout;
  /**
   * Reads the metagraph (and commitments) again because a miner declared a bundle the last read lacks: at once, or
   * when 5 s have passed since the last such read (one read then serves every declaration in between).
   */
  recheckCommitments = (): void => {
    if (!this.isUp || this.recheckTimer) return;
    const wait = Math.max(0, this.lastRecheck + 5000 - Date.now());
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.lastRecheck = Date.now();
      if (!this.closing) void this.watcher?.refresh();
    }, wait);
    this.recheckTimer.unref();
  };

  /** The chain part of the status snapshot. */
  status(): Omit<ChainStatus, 'endpoint' | 'lastWeights'> {
    return {
      connected: this.connected,
      block: this.block,
      disconnectedSince: this.disconnectedSince,
      reconnectAttempts: this.reconnectAttempts,
      lastError: this.lastError,
      commitReveal: this.commitReveal,
      pendingCommits: this.pending().map((p) => ({
        commitBlock: p.commitBlock,
        revealFirst: p.revealFirst,
        revealLast: p.revealLast,
        uids: p.uids,
        values: p.values,
      })),
      nextWeightsBlock: this.nextWeightsBlock,
    };
  }

  /**
   * One weights cycle for `weights` (hotkey -> normalised weight; hotkeys without a uid are left out): reveal a
   * commit that is due, else set the weights directly or commit them, as the subnet's CommitRevealWeightsEnabled
   * says now. Never throws for chain trouble: the outcome says what happened, in plain words.
   */
  updateWeights(weights: Map<string, number>): Promise<WeightsOutcome> {
    return this.serial(() => this.cycle(weights));
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.recheckTimer);
    this.wakeReconnect?.();
    await this.queue.catch(() => undefined);
    this.watcher?.stop();
    this.unsubHeads?.();
    await this.api?.disconnect().catch(() => undefined);
  }

  // --- weights -----------------------------------------------------------------------------------------------

  /** Chain operations one at a time: a reveal triggered by a new head never races a weights cycle. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private pending(): PendingCommitRow[] {
    return this.o.store.pendingCommits(this.o.netuid, this.o.signer.address);
  }

  private async cycle(weights: Map<string, number>): Promise<WeightsOutcome> {
    const at = Date.now();
    const mg = this.watcher?.current;
    const byUid = new Map<number, number>();
    for (const [hotkey, w] of weights) {
      const uid = mg?.byHotkey.get(hotkey)?.uid;
      if (uid !== undefined) byUid.set(uid, w);
    }
    const history = Object.fromEntries([...byUid].map(([u, w]) => [String(u), w]));
    const record = (status: WeightLog['status'], detail: string) => this.history.record({ at, weights: history, status, detail });
    const api = this.api;
    if (!api || !mg) return this.failure('NotConnected', 'not connected to the chain yet', record);
    if (!this.connected) {
      const since = this.disconnectedSince ?? at;
      return this.failure(
        'Disconnected',
        `the chain at ${this.o.endpoint} is unreachable (since ${time(since)}, ${this.reconnectAttempts} reconnect attempts): weights wait until it is back; miners are still scored`,
        record,
      );
    }
    let st: WeightsState;
    try {
      st = await weightsState(api, this.o.netuid, this.o.signer.address);
    } catch (e) {
      return this.failure('Transport', `could not read the subnet's weight rules from the chain: ${errMsg(e)}`, record);
    }
    this.follow(st);
    const settled = await this.settlePending(api, st);
    if (settled) return settled;

    const { uids, weights: values } = toU16Weights(byUid);
    if (uids.length === 0) return this.failure('NoScores', 'no miner has a positive score yet: nothing to set', record);
    if (st.nextAllowedBlock > st.head + 1) {
      // The chain's LastUpdate + WeightsSetRateLimit, not our own clock: a restarted validator cannot set twice.
      const detail = `rate-limited: next ${st.commitReveal ? 'commit' : 'weights'} allowed at block ${st.nextAllowedBlock} (now ${st.head}; last update at block ${st.lastUpdate}, WeightsSetRateLimit ${st.rateLimit})`;
      this.o.log.info(`weights not due yet: ${detail}`);
      return { ok: false, action: 'waiting', detail, uids, values };
    }
    const versionKey = versionKeyFrom(this.o.version);
    if (st.commitReveal) return this.commit(api, uids, values, versionKey, at, history);

    const r = await setWeights(api, this.o.signer, this.o.netuid, uids, values, versionKey);
    if (r.ok) {
      this.nextWeightsBlock = r.block + st.rateLimit;
      this.clearError();
      this.o.log.info('weights set on chain', { block: r.block, uids, weights: values });
      record('set', `block ${r.block}`);
      return { ok: true, action: 'set', detail: `set at block ${r.block}`, block: r.block, uids, values };
    }
    return { ...this.failure(r.code, r.explanation, record, r.chainError), uids, values };
  }

  private async commit(
    api: ApiPromise,
    uids: number[],
    values: number[],
    versionKey: number,
    at: number,
    history: Record<string, number>,
  ): Promise<WeightsOutcome> {
    const { store, netuid, signer } = this.o;
    const salt = randomSalt();
    const hash = commitHash(signer.publicKey, netuid, uids, values, salt, versionKey);
    const weightsId = this.history.record({ at, weights: history, status: 'pending', detail: 'committing (commit-reveal)' });
    // Saved before sending: if the validator stops before the reply, the salt is still there to reveal with.
    const id = store.savePendingCommit({
      netuid,
      hotkey: signer.address,
      hash,
      uids,
      values,
      salt,
      versionKey: String(versionKey),
      commitBlock: null,
      revealFirst: null,
      revealLast: null,
      weightsId,
      createdAt: at,
    });
    const r = await commitWeights(api, signer, netuid, uids, values, versionKey, { salt });
    if (r.ok) {
      store.confirmCommit(id, r.commitBlock, r.reveal);
      const detail = `committed at block ${r.commitBlock}; revealed in blocks ${r.reveal.first}..${r.reveal.last}`;
      this.history.update(weightsId, 'pending', detail);
      this.clearError();
      this.o.log.info(`weights committed on chain (commit-reveal): ${detail}`, { uids, weights: values, hash });
      return { ok: true, action: 'committed', detail, block: r.commitBlock, uids, values };
    }
    if (r.code === 'Transport') {
      // It may have landed: the next check looks for the hash on chain (WeightCommits) before giving up on it.
      this.history.update(weightsId, 'pending', `commit sent, no confirmation (${r.explanation})`);
      return { ...this.failure(r.code, `${r.explanation} The commit is checked on chain once it is back.`), uids, values };
    }
    store.deletePendingCommit(id);
    this.history.update(weightsId, 'failed', `${r.code}: ${r.explanation}`);
    return { ...this.failure(r.code, r.explanation, undefined, r.chainError), uids, values };
  }

  /**
   * Deals with this hotkey's pending commits: confirms unconfirmed ones against the chain, drops those that can no
   * longer be revealed, and reveals the first one in its window. Returns an outcome when a commit is revealed or
   * still waiting (nothing else should go on chain this cycle), null when none is pending.
   */
  private async settlePending(api: ApiPromise, st: WeightsState): Promise<WeightsOutcome | null> {
    const { store, log } = this.o;
    for (let p of this.pending()) {
      const drop = (code: string, why: string) => {
        store.deletePendingCommit(p.id);
        if (p.weightsId !== null) this.history.update(p.weightsId, 'failed', `${code}: ${why}`);
        this.setError(code, why);
        log.warn(`weight commit dropped: ${why}`, { commitBlock: p.commitBlock, hash: p.hash });
      };
      if (!st.commitReveal) {
        drop(
          'CommitRevealDisabled',
          'commit-reveal was switched off on the subnet before the reveal; weights are set directly now',
        );
        continue;
      }
      if (p.commitBlock === null || p.revealFirst === null || p.revealLast === null) {
        const found = await this.findCommit(api, p.hash).catch(() => undefined);
        if (found === undefined) return this.failure('Transport', 'could not check an unconfirmed weight commit on chain');
        if (found === null) {
          drop('NoWeightsCommitFound', 'a commit whose confirmation was lost is not on chain: it never landed');
          continue;
        }
        store.confirmCommit(p.id, found.commitBlock, { first: found.first, last: found.last });
        p = { ...p, commitBlock: found.commitBlock, revealFirst: found.first, revealLast: found.last };
        log.info(`unconfirmed weight commit found on chain at block ${found.commitBlock}`);
      }
      const next = st.head + 1;
      if (next > p.revealLast!) {
        drop(
          'ExpiredWeightCommit',
          `the commit from block ${p.commitBlock} expired unrevealed (its reveal window, blocks ${p.revealFirst}..${p.revealLast}, passed; now ${st.head})`,
        );
        continue;
      }
      if (next < p.revealFirst!) {
        const detail = `weights committed at block ${p.commitBlock}; reveal due in blocks ${p.revealFirst}..${p.revealLast} (now ${st.head})`;
        return { ok: false, action: 'waiting', detail, uids: p.uids, values: p.values };
      }
      const commit: PendingCommit = {
        netuid: p.netuid,
        uids: p.uids,
        values: p.values,
        salt: p.salt,
        versionKey: BigInt(p.versionKey),
        hash: p.hash as `0x${string}`,
        commitBlock: p.commitBlock!,
        reveal: { first: p.revealFirst!, last: p.revealLast! },
      };
      const r = await revealWeights(api, this.o.signer, commit);
      if (r.ok) {
        store.deletePendingCommit(p.id);
        const detail = `revealed at block ${r.block} (committed at block ${p.commitBlock})`;
        if (p.weightsId !== null) this.history.update(p.weightsId, 'set', detail);
        this.clearError();
        log.info(`weights revealed on chain: ${detail}`, { block: r.block, uids: p.uids, weights: p.values });
        return { ok: true, action: 'revealed', detail, block: r.block, uids: p.uids, values: p.values };
      }
      if (COMMIT_GONE.has(r.code)) {
        drop(r.code, r.explanation);
        continue;
      }
      return {
        ...this.failure(r.code, `reveal failed: ${r.explanation}`, undefined, r.chainError),
        uids: p.uids,
        values: p.values,
      };
    }
    return null;
  }

  /** This hotkey's commit with `hash` in WeightCommits (hash, commit block, first and last reveal block), or null. */
  private async findCommit(api: ApiPromise, hash: string): Promise<{ commitBlock: number; first: number; last: number } | null> {
    const q = api.query.subtensorModule as unknown as Record<string, (...a: unknown[]) => Promise<Codec>>;
    const entries = ((await q.weightCommits!(this.o.netuid, this.o.signer.address)).toJSON() ?? []) as Array<
      [string, number, number, number]
    >;
    const e = entries.find(([h]) => h === hash);
    return e ? { commitBlock: Number(e[1]), first: Number(e[2]), last: Number(e[3]) } : null;
  }

  /** Follows the subnet's rules as read at each cycle (commit-reveal can be switched at runtime). */
  private follow(st: WeightsState): void {
    if (this.commitReveal !== null && this.commitReveal !== st.commitReveal) {
      this.o.log.info(
        st.commitReveal
          ? `commit-reveal was switched on for subnet ${this.o.netuid}: weights are now committed, then revealed in a later epoch`
          : `commit-reveal was switched off for subnet ${this.o.netuid}: weights are set directly again`,
      );
    }
    this.commitReveal = st.commitReveal;
    this.nextWeightsBlock = st.nextAllowedBlock;
  }

  /** A new head: reveal a due commit right away rather than at the next weights cycle (which may be after the window). */
  private onHead(n: number): void {
    this.block = n;
    if (!this.isUp) return;
    const due = this.pending().some((p) => p.revealFirst === null || n + 1 >= p.revealFirst);
    if (due) this.queueDueCheck();
  }

  private queueDueCheck(): void {
    if (this.dueCheckQueued || this.closing) return;
    this.dueCheckQueued = true;
    void this.serial(async () => {
      this.dueCheckQueued = false;
      const api = this.api;
      if (!api || !this.connected || this.closing) return;
      try {
        const st = await weightsState(api, this.o.netuid, this.o.signer.address);
        this.follow(st);
        await this.settlePending(api, st);
      } catch (e) {
        this.o.log.warn(`checking pending weight commits failed (retried at the next block): ${errMsg(e)}`);
      }
    });
  }

  /** Problems stay on the status page until resolved: `codes` given, only those; otherwise any. */
  private clearError(...codes: string[]): void {
    if (this.lastError && (codes.length === 0 || codes.includes(this.lastError.code))) this.lastError = null;
  }

  private setError(code: string, message: string, chainError?: string): void {
    this.lastError = { at: Date.now(), code, message, ...(chainError ? { chainError } : {}) };
  }

  private failure(
    code: string,
    message: string,
    record?: (status: WeightLog['status'], detail: string) => number,
    chainError?: string,
  ): WeightsOutcome {
    this.setError(code, message, chainError);
    this.o.log.warn(`weights not set: ${message}`, { code, ...(chainError ? { chainError } : {}) });
    record?.('failed', `${code}: ${message}`);
    return { ok: false, action: 'failed', code, detail: `${code}: ${message}` };
  }

  // --- connection --------------------------------------------------------------------------------------------

  /** Opens the socket once; true when it connected, false when it closed or timed out first. */
  private tryConnect(): Promise<boolean> {
    const provider = this.provider!;
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        offUp();
        offDown();
        resolve(ok);
      };
      const onUp = () => finish(true);
      const onDown = () => finish(false);
      const timer = setTimeout(() => {
        finish(false);
        // A socket stuck connecting: close it so the next attempt starts clean.
        void provider.disconnect().catch(() => undefined);
      }, this.o.connectTimeoutMs ?? 15_000);
      const offUp = provider.on('connected', onUp);
      const offDown = provider.on('disconnected', onDown);
      provider.connect().catch(() => finish(false));
    });
  }

  private onDisconnected(): void {
    if (this.closing || !this.isUp) return;
    this.isUp = false;
    this.disconnectedSince = Date.now();
    this.reconnectAttempts = 0;
    const why = `lost the connection to the chain at ${this.o.endpoint}: miners are still scored and their scores kept; weights wait until the chain is back (reconnecting with backoff)`;
    this.setError('Disconnected', why);
    this.o.log.warn(why);
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let attempt = 0; !this.closing && !this.isUp; attempt++) {
        const delay = backoffDelay(attempt, { baseMs: this.o.reconnectBaseMs ?? 500, maxMs: this.o.reconnectMaxMs ?? 8_000 });
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wakeReconnect = () => {
            clearTimeout(t);
            r();
          };
        });
        if (this.closing) return;
        this.reconnectAttempts = attempt + 1;
        if (await this.tryConnect()) return; // onReconnected does the rest
        this.o.log.info(`the chain is still unreachable (attempt ${attempt + 1}); trying again with backoff`, {
          endpoint: this.o.endpoint,
        });
      }
    } finally {
      this.reconnecting = false;
      this.wakeReconnect = undefined;
    }
  }

  private onReconnected(): void {
    if (this.closing || this.isUp || this.disconnectedSince === null) return;
    const downMs = Date.now() - this.disconnectedSince;
    this.isUp = true;
    this.disconnectedSince = null;
    this.clearError('Disconnected');
    this.o.log.info(
      `reconnected to the chain at ${this.o.endpoint} after ${(downMs / 1000).toFixed(1)} s (${this.reconnectAttempts} attempts)`,
    );
    // Subscriptions come back by themselves (the provider re-subscribes); catch up on what changed meanwhile.
    void this.watcher?.refresh();
    this.queueDueCheck();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(t);
  }
}
