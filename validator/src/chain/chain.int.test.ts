// Integration: the real subtensor runtime (spec 293) under chopsticks, offline. Starts the chain from the raw spec,
// bootstraps a subnet with 3 miners, reads the metagraph, sets weights and reads them back, hits the rate limit, follows
// a hotkey swap with the metagraph watcher, and checks our commit hash against the runtime with a real commit + reveal.
// Skipped (with a message) when the spec is not there: set VERACITY_CHAIN_SPEC to a raw spec path or URL.
import { existsSync } from 'node:fs';
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapSubnet, type BootstrapProgress, type BootstrapResult, sudoSetHyperparams } from './bootstrap.js';
import { keyFromUri } from './keys.js';
import { startLocalnet, type Localnet } from './localnet.js';
import { type MetagraphChange, MetagraphWatcher, readMetagraph } from './metagraph.js';
import { defaultSpec, isUrl } from './spec.js';
import { advanceBlocks, submitTx, txCall } from './tx.js';
import { commitWeights, readWeights, revealWeights, setWeights, toU16Weights } from './weights.js';

const SPEC = defaultSpec();
const haveSpec = isUrl(SPEC) || existsSync(SPEC);
if (!haveSpec) console.warn(`chain.int.test: skipped, no chain spec at ${SPEC} (set VERACITY_CHAIN_SPEC)`);

const MINERS = ['//Miner1', '//Miner2', '//Miner3']; // good, random, silent
const timings: Record<string, number> = {};

describe.skipIf(!haveSpec)('chain: subtensor runtime under chopsticks', () => {
  let net: Localnet;
  let api: ApiPromise;
  let alice: KeyringPair;
  let boot: BootstrapResult;
  const steps: BootstrapProgress[] = [];

  beforeAll(async () => {
    let t = Date.now();
    net = await startLocalnet({ spec: SPEC });
    api = await ApiPromise.create({ provider: new WsProvider(net.endpoint), noInitWarn: true });
    timings.start = Date.now() - t;
    alice = await keyFromUri('//Alice');
    t = Date.now();
    boot = await bootstrapSubnet(api, {
      validatorHotkey: alice,
      minerHotkeys: MINERS,
      tempo: 10,
      onProgress: (p) => steps.push(p),
    });
    timings.bootstrap = Date.now() - t;
  }, 300_000);

  afterAll(async () => {
    await api?.disconnect();
    await net?.close();
    console.log(`chain.int.test timings (ms): ${JSON.stringify(timings)}`);
  }, 60_000);

  it('starts with the real slot duration and bootstraps a subnet, reporting each step', () => {
    expect(net.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(net.slotDurationMs).toBe(1000);
    expect(boot.created).toBe(true);
    expect(boot.netuid).toBeGreaterThanOrEqual(2);
    const done = steps.filter((s) => s.status === 'done').map((s) => s.step);
    for (const step of [
      'register-network',
      'wait-start-call',
      'start-call',
      'hyperparameters',
      'register-miners',
      'add-stake',
      'validator-permit',
    ]) {
      expect(done).toContain(step);
    }
  });

  it('reads the metagraph: the validator has a permit, the 3 miners have uids', async () => {
    const mg = await readMetagraph(api, boot.netuid);
    expect(mg.uids).toHaveLength(4);
    const v = mg.byHotkey.get(alice.address)!;
    expect(v.uid).toBe(boot.validatorUid);
    expect(v.validatorPermit).toBe(true);
    expect(v.stake).toBeGreaterThan(0);
    for (const uri of MINERS) {
      const hotkey = (await keyFromUri(uri)).address;
      expect(mg.byHotkey.get(hotkey)?.uid).toBe(boot.minerUids.find((m) => m.hotkey === hotkey)!.uid);
    }
    expect(new Set(mg.uids.map((n) => n.uid)).size).toBe(4);
  });

  it('is idempotent: a second bootstrap finds the subnet and changes nothing', async () => {
    const t = Date.now();
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const again: BootstrapProgress[] = [];
    const r = await bootstrapSubnet(api, {
      validatorHotkey: alice,
      minerHotkeys: MINERS,
      tempo: 10,
      onProgress: (p) => again.push(p),
    });
    expect(r.created).toBe(false);
    expect(r.netuid).toBe(boot.netuid);
    expect(r.minerUids).toEqual(boot.minerUids);
    expect((await api.rpc.chain.getHeader()).number.toNumber()).toBe(head); // no transaction, no block
    timings.rebootstrap = Date.now() - t;
  }, 60_000);

  it('names the failing step and decodes the chain error', async () => {
    const bob = await keyFromUri('//Bob');
    await expect(bootstrapSubnet(api, { sudo: bob, validatorHotkey: alice, minerHotkeys: MINERS })).rejects.toThrow(
      /^bootstrap step "check-sudo" failed: the chain's sudo key is 5Grw\w+, not 5FHne\w+/,
    );
    await expect(sudoSetHyperparams(api, bob, boot.netuid, { tempo: 11 })).rejects.toThrow(
      'bootstrap step "hyperparameters" failed: Sudo.RequireSudo: Sender must be the Sudo account. (setting Tempo=11)',
    );
  }, 60_000);

  it('sets weights (good high, random low, silent 0) and reads them back in order', async () => {
    const [good, random, silent] = boot.minerUids.map((m) => m.uid) as [number, number, number];
    const { uids, weights } = toU16Weights(
      new Map([
        [good, 0.92],
        [random, 0.31],
        [silent, 0],
      ]),
    );
    const t = Date.now();
    const res = await setWeights(api, alice, boot.netuid, uids, weights, 0);
    timings.setWeights = Date.now() - t;
    expect(res).toMatchObject({ ok: true, uid: boot.validatorUid });
    const onChain = await readWeights(api, boot.netuid, boot.validatorUid);
    const w = (uid: number) => onChain.get(uid) ?? 0;
    expect(w(good)).toBe(65535);
    expect(w(good)).toBeGreaterThan(w(random));
    expect(w(random)).toBeGreaterThan(w(silent));
    expect(w(silent)).toBe(0);
    const mg = await readMetagraph(api, boot.netuid);
    expect(mg.byUid.get(boot.validatorUid)!.lastUpdate).toBe(res.ok ? res.block : -1);
  }, 60_000);

  it('reports SettingWeightsTooFast in plain words inside the rate limit (before sending, and from the chain)', async () => {
    await sudoSetHyperparams(api, alice, boot.netuid, { weightsSetRateLimit: 100 });
    const [good] = boot.minerUids.map((m) => m.uid);
    const pre = await setWeights(api, alice, boot.netuid, [good!], [65535], 0);
    expect(pre.ok).toBe(false);
    if (pre.ok) return;
    expect(pre.code).toBe('SettingWeightsTooFast');
    expect(pre.precheck).toBe(true);
    expect(pre.explanation).toMatch(/^rate-limited, next allowed at block \d+/);
    expect(pre.nextAllowedBlock).toBeGreaterThan((await api.rpc.chain.getHeader()).number.toNumber());

    const chain = await setWeights(api, alice, boot.netuid, [good!], [65535], 0, { precheck: false });
    expect(chain.ok).toBe(false);
    if (chain.ok) return;
    expect(chain.code).toBe('SettingWeightsTooFast');
    expect(chain.precheck).toBe(false);
    expect(chain.chainError).toMatch(/^SubtensorModule\.SettingWeightsTooFast: /);
    expect(chain.explanation).toMatch(/too recently.*Next allowed at block \d+/);
    await sudoSetHyperparams(api, alice, boot.netuid, { weightsSetRateLimit: 0 });
  }, 60_000);

  it('explains a version key below the subnet minimum', async () => {
    await sudoSetHyperparams(api, alice, boot.netuid, { weightsVersionKey: 1_002_003 });
    const res = await setWeights(api, alice, boot.netuid, [boot.minerUids[0]!.uid], [65535], 1_002_002, { precheck: false });
    expect(res).toMatchObject({ ok: false, code: 'IncorrectWeightVersionKey', precheck: false });
    expect(await setWeights(api, alice, boot.netuid, [boot.minerUids[0]!.uid], [65535], 1_002_003)).toMatchObject({ ok: true });
    await sudoSetHyperparams(api, alice, boot.netuid, { weightsVersionKey: 0 });
  }, 60_000);

  it('the metagraph watcher reports "uid X changed hotkey" after a hotkey swap', async () => {
    const silent = boot.minerUids[2]!;
    const fresh = await keyFromUri('//Miner3b');
    const watcher = new MetagraphWatcher(api, boot.netuid, { everyBlocks: 1 });
    const changes: MetagraphChange[] = [];
    watcher.on('change', (c) => changes.push(c));
    await watcher.start();
    try {
      // the coldkey (Alice) moves the silent miner's uid to a new hotkey: the uid stays, the hotkey changes
      const swap = txCall(api, 'subtensorModule', 'swapHotkey');
      const args = swap.meta.args.length === 3 ? [silent.hotkey, fresh.address, null] : [silent.hotkey, fresh.address];
      await submitTx(api, alice, swap(...args), { step: 'swap-hotkey' });
      await advanceBlocks(api, 1);
      const deadline = Date.now() + 20_000;
      while (!changes.some((c) => c.type === 'hotkey-changed') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(changes).toContainEqual({ type: 'hotkey-changed', uid: silent.uid, from: silent.hotkey, to: fresh.address });
      expect(watcher.current?.byUid.get(silent.uid)?.hotkey).toBe(fresh.address);
    } finally {
      watcher.stop();
    }
  }, 60_000);

  it('commit-reveal: our commit hash is the one the runtime checks (real commit, then reveal)', async () => {
    await sudoSetHyperparams(api, alice, boot.netuid, { commitReveal: true });
    const direct = await setWeights(api, alice, boot.netuid, [boot.minerUids[0]!.uid], [65535], 0);
    expect(direct).toMatchObject({ ok: false, code: 'CommitRevealEnabled' });

    const uids = boot.minerUids.map((m) => m.uid);
    const values = [65535, 20000, 1];
    const commit = await commitWeights(api, alice, boot.netuid, uids, values, 0);
    expect(commit.ok).toBe(true);
    if (!commit.ok) return;
    const early = await revealWeights(api, alice, commit);
    expect(early).toMatchObject({ ok: false, code: 'RevealTooEarly', precheck: true });
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    await advanceBlocks(api, commit.reveal.first - head - 1);
    const revealed = await revealWeights(api, alice, commit);
    expect(revealed).toMatchObject({ ok: true });
    const onChain = await readWeights(api, boot.netuid, boot.validatorUid);
    expect(uids.map((u) => onChain.get(u) ?? 0)).toEqual(values);
  }, 120_000);
});
