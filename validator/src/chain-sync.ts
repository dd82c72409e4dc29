/**
 * Connects the validator to the chain: the metagraph decides who may mine (and under which uid), and the scores
 * become on-chain weights on a schedule. Chain trouble never stops scoring: failures are recorded and explained in
 * plain words, and the next attempt comes at the next interval.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { type Metagraph, MetagraphWatcher } from './chain/metagraph.js';
import { setWeights, toU16Weights, versionKeyFrom } from './chain/weights.js';
import type { Logger } from './log.js';
import type { Registration } from './server.js';
import type { Store } from './store.js';

export interface ChainSyncOptions {
  endpoint: string;
  netuid: number;
  signer: KeyringPair;
  version: string;
  store: Store;
  log: Logger;
  metagraphEveryBlocks?: number;
}

export class ChainSync {
  private api?: ApiPromise;
  private watcher?: MetagraphWatcher;
  block: number | null = null;

  constructor(private readonly o: ChainSyncOptions) {}

  async start(): Promise<Metagraph> {
    // WsProvider reconnects by itself (2.5 s); subscriptions resume when the chain comes back.
    this.api = await ApiPromise.create({
      provider: new WsProvider(this.o.endpoint, 2500),
      noInitWarn: true,
      throwOnConnect: true,
    });
    this.watcher = new MetagraphWatcher(this.api, this.o.netuid, { everyBlocks: this.o.metagraphEveryBlocks ?? 5 });
    this.watcher.on('change', (c) => {
      // A uid whose hotkey changed belongs to someone else now: the old hotkey's history must not follow it.
      if (c.type === 'hotkey-changed') {
        this.o.store.forgetMiner(c.from);
        this.o.log.info('uid changed hotkey: history cleared', { uid: c.uid, from: c.from, to: c.to });
      }
    });
    this.watcher.on('error', (e) =>
      this.o.log.warn('metagraph read failed; retrying at the next due block', { error: e.message }),
    );
    this.watcher.on('update', (m) => (this.block = m.block));
    const first = await this.watcher.start();
    this.o.log.info('metagraph loaded', { netuid: this.o.netuid, neurons: first.uids.length, block: first.block });
    return first;
  }

  get connected(): boolean {
    return this.api?.isConnected ?? false;
  }

  /** Only hotkeys registered on the subnet may mine; the uid comes from the metagraph. */
  registration = (hotkey: string): Registration => {
    const n = this.watcher?.current?.byHotkey.get(hotkey);
    return n ? { ok: true, uid: n.uid } : { ok: false };
  };

  /** Sets `weights` (hotkey -> normalised weight) on chain for the hotkeys that hold a uid; records the outcome. */
  async setWeights(weights: Map<string, number>): Promise<{ ok: boolean; detail: string }> {
    const api = this.api;
    const mg = this.watcher?.current;
    const at = Date.now();
    const byUid = new Map<number, number>();
    for (const [hotkey, w] of weights) {
      const uid = mg?.byHotkey.get(hotkey)?.uid;
      if (uid !== undefined) byUid.set(uid, w);
    }
    const record = (status: 'set' | 'failed', detail: string) => {
      this.o.store.recordWeights({ at, weights: Object.fromEntries([...byUid].map(([u, w]) => [String(u), w])), status, detail });
      return { ok: status === 'set', detail };
    };
    if (!api || !mg) return record('failed', 'not connected to the chain yet');
    const { uids, weights: u16 } = toU16Weights(byUid);
    if (uids.length === 0) return record('failed', 'no miner has a positive score yet: nothing to set');
    const result = await setWeights(api, this.o.signer, this.o.netuid, uids, u16, versionKeyFrom(this.o.version));
    if (result.ok) {
      this.o.log.info('weights set on chain', { block: result.block, uids, weights: u16 });
      return record('set', `block ${result.block}`);
    }
    this.o.log.warn('weights not set', { code: result.code, explanation: result.explanation, chainError: result.chainError });
    return record('failed', `${result.code}: ${result.explanation}`);
  }

  async close(): Promise<void> {
    this.watcher?.stop();
    await this.api?.disconnect();
  }
}
