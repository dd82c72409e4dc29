// Integration (issue 4, the validator on chain): the real subtensor runtime under chopsticks with its blocks in a db
// file, a subnet bootstrapped with commit-reveal on, the validator with three Node reference miners (the shipped model,
// random answers, silence). In order, on one chain: the validator commits and reveals its weights in the reveal epoch;
// the chain goes away (chopsticks closed) while miners are still scored, and comes back on the same port from the same
// db, where the validator reconnects and sets weights (commit-reveal now switched off at runtime); the validator is
// restarted on its SQLite db in the middle of a tempo with a pending commit, keeps its scores, reveals the commit and
// does not set weights again inside the rate limit; and chain errors come back in plain words, in the logs and the
// status API, from the real runtime (NeuronNoValidatorPermit, SettingWeightsTooFast, IncorrectWeightVersionKey); and a
// commit whose confirmation was lost is looked up on chain and revealed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { type Detector, loadNodeDetector } from '@veracity/models/node';
import { defaultBundleDir } from '@veracity/models/paths';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WeightsOutcome } from './chain-sync.js';
import { bootstrapSubnet, sudoSetHyperparams } from './bootstrap.js';
import { keyFromUri } from './keys.js';
import { type Localnet, startLocalnet } from './localnet.js';
import { defaultSpec } from './spec.js';
import { advanceBlocks } from './tx.js';
import {
  commitHash,
  commitWeights,
  randomSalt,
  readWeights,
  setWeights,
  toU16Weights,
  versionKeyFrom,
  weightsState,
} from './weights.js';
import { DEFAULTS, type ValidatorConfig } from '../config.js';
import { createLogger } from '../log.js';
import { runValidator, type RunningValidator } from '../main.js';
import { NodeMiner } from '../miner/node-miner.js';
import type { StatusSnapshot } from '../status/types.js';
import { Store } from '../store.js';
import { DATASET, until } from '../test-support/helpers.js';

type LogLine = { level: string; msg: string } & Record<string, unknown>;
const TEMPO = 5;
const MINERS = { model: '//Bob', random: '//Charlie', silent: '//Dave' } as const;

describe('the validator on chain: commit-reveal, a chain that goes away, a restart mid-tempo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-chain-sync-'));
  const chainDb = join(dir, 'chain.db');
  const validatorDb = join(dir, 'validator.db');
  let net: Localnet;
  let api: ApiPromise;
  let alice: KeyringPair;
  let netuid: number;
  let validatorUid: number;
  let uidOf: Map<string, number>;
  let detector: Detector;
  let validator: RunningValidator;
  let logs: LogLine[] = [];
  const miners: NodeMiner[] = [];
  const timings: Record<string, number> = {};
  const versionKey = versionKeyFrom(
    (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  );

  const connectApi = async () => ApiPromise.create({ provider: new WsProvider(net.endpoint), noInitWarn: true });
  const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
  const startValidator = async () => {
    logs = [];
    const config: ValidatorConfig = {
      ...DEFAULTS,
      dataset: DATASET,
      db: validatorDb,
      port: 0,
      seed: 'chain-sync-test',
      roundIntervalMs: 0,
      timeoutMs: 1000,
      chainEndpoint: net.endpoint,
      netuid,
      hotkeyUri: '//Alice',
      // The test drives the weights cycles itself; reveals are triggered by new heads.
      weightsIntervalMs: 3_600_000,
      logLevel: 'info',
    };
    const log = createLogger('info', (l) => logs.push(JSON.parse(l) as LogLine));
    return runValidator(config, { log });
  };
  const statusOf = async (v: RunningValidator): Promise<StatusSnapshot> =>
    (await fetch(`${v.url.replace(/^ws/, 'http')}api/status`)).json() as Promise<StatusSnapshot>;
  const logged = (re: RegExp, level?: string) => logs.some((l) => re.test(l.msg) && (!level || l.level === level));
  /**
   * One weights cycle right after a round ends, with the scores it uses: the next round lasts timeoutMs (the silent
   * miner never answers), and updateWeights reads the scores before its first await, so both see the same scores.
   */
  const cycleAfterRound = async (v: RunningValidator) => {
    const r0 = v.server.roundsRun;
    await until(() => v.server.roundsRun > r0, 30_000, 'a round to end');
    const scores = v.server.scores();
    const outcome = (await v.updateWeights()) as WeightsOutcome;
    const byUid = new Map([...scores].flatMap(([hotkey, s]) => (uidOf.has(hotkey) ? [[uidOf.get(hotkey)!, s.weight]] : [])));
    return { outcome, expected: toU16Weights(byUid as Map<number, number>), scores };
  };

  beforeAll(async () => {
    let t = Date.now();
    net = await startLocalnet({ spec: defaultSpec(), db: chainDb });
    api = await connectApi();
    alice = await keyFromUri('//Alice');
    const boot = await bootstrapSubnet(api, {
      validatorHotkey: alice,
      minerHotkeys: Object.values(MINERS),
      tempo: TEMPO,
      commitReveal: true,
    });
    timings.chain = Date.now() - t;
    netuid = boot.netuid;
    validatorUid = boot.validatorUid;
    uidOf = new Map(boot.minerUids.map((m) => [m.hotkey, m.uid]));
    detector = await loadNodeDetector(defaultBundleDir());
    t = Date.now();
    validator = await startValidator();
    for (const [behaviour, uri] of Object.entries(MINERS)) {
      const m = new NodeMiner({
        url: validator.url,
        signer: await keyFromUri(uri),
        netuid,
        behaviour: behaviour as keyof typeof MINERS,
        detector,
      });
      miners.push(m);
      await m.start();
    }
    await until(() => validator.server.roundsRun >= 6, 60_000, '6 rounds');
    // Six rounds can pass before the model miner's first scored answer (with the status page already built the
    // validator starts at once and rounds run back to back): the weights cycles below need its positive score. A
    // window earns sn34 only beyond chance (z >= 1.645), and a few answers in, one more can pull z back under it, so
    // wait until its image window is clearly past the line (z >= 3): later cycles then still see a positive score.
    const modelHotkey = (await keyFromUri(MINERS.model)).address;
    await until(
      () => {
        const s = validator.server.scores().get(modelHotkey);
        return (s?.score ?? 0) > 0 && (s?.detail.modalities.image.z ?? 0) >= 3;
      },
      90_000,
      'the model miner scored well beyond chance',
    );
    timings.validator = Date.now() - t;
  }, 240_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await validator?.close();
    await api?.disconnect();
    await detector?.dispose();
    await net?.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`chain-sync.int.test timings (ms): ${JSON.stringify(timings)}`);
  }, 60_000);

  it('commit-reveal on: commits the hash of its weights, keeps the commit in SQLite, reveals it in the reveal epoch', async () => {
    const t = Date.now();
    const { outcome, expected, scores } = await cycleAfterRound(validator);
    expect(outcome, outcome.detail).toMatchObject({ ok: true, action: 'committed' });
    expect({ uids: outcome.uids, weights: outcome.values }).toEqual(expected);
    expect(scores.get((await keyFromUri(MINERS.silent)).address)?.score).toBe(0);
    expect(outcome.uids).not.toContain(uidOf.get((await keyFromUri(MINERS.silent)).address));
    expect(logged(/^weights committed on chain \(commit-reveal\)/)).toBe(true);

    // The commit is on chain (hash only) and in the validator's store with its salt; nothing is revealed yet.
    const onChain = (
      await (api.query.subtensorModule as unknown as Record<string, (...a: unknown[]) => Promise<{ toJSON(): unknown }>>)
        .weightCommits!(netuid, alice.address)
    ).toJSON() as [string, number, number, number][];
    expect(onChain).toHaveLength(1);
    const pending = validator.chain!.status().pendingCommits;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ commitBlock: outcome.block, revealFirst: onChain[0]![2], revealLast: onChain[0]![3] });
    const store = new Store(validatorDb);
    const saved = store.pendingCommits(netuid, alice.address);
    store.close();
    expect(saved[0]).toMatchObject({ hash: onChain[0]![0], uids: outcome.uids, values: outcome.values, salt: expect.any(Array) });
    expect(await readWeights(api, netuid, validatorUid)).toEqual(new Map());

    // A cycle before the reveal window waits (no second commit).
    const early = (await validator.updateWeights()) as WeightsOutcome;
    expect(early).toMatchObject({ ok: false, action: 'waiting' });
    expect(early.detail).toMatch(/reveal due in blocks \d+\.\.\d+/);

    // Blocks up to the window: the validator reveals on the new head, without waiting for its weights timer.
    await advanceBlocks(api, pending[0]!.revealFirst! - (await head()) - 1);
    await until(() => validator.chain!.status().pendingCommits.length === 0, 30_000, 'the reveal');
    const revealed = await readWeights(api, netuid, validatorUid);
    expect(outcome.uids!.map((u) => revealed.get(u))).toEqual(outcome.values);
    expect(revealed.size).toBe(outcome.uids!.length);
    expect(logged(/^weights revealed on chain: revealed at block \d+ \(committed at block \d+\)/)).toBe(true);
    const status = await statusOf(validator);
    expect(status.chain).toMatchObject({ connected: true, commitReveal: true, pendingCommits: [], lastError: null });
    expect(status.chain.lastWeights).toMatchObject({ status: 'set', detail: expect.stringMatching(/^revealed at block/) });
    timings.commitReveal = Date.now() - t;
  }, 120_000);

  it('keeps scoring while the chain is away, says so, reconnects with backoff when it is back, then sets weights', async () => {
    const t = Date.now();
    // Commit-reveal switched off at runtime: the next cycle after the outage sets weights directly.
    await sudoSetHyperparams(api, alice, netuid, { commitReveal: false });
    await api.disconnect();
    const port = net.port;
    const answersBefore = (await statusOf(validator)).miners.reduce((s, m) => s + m.answers.image + m.answers.video, 0);
    await net.close();

    await until(() => !validator.chain!.connected, 10_000, 'the validator to notice the chain is gone');
    expect(logged(/^lost the connection to the chain at ws:\/\/127\.0\.0\.1:\d+: miners are still scored/, 'warn')).toBe(true);
    const rounds = validator.server.roundsRun;
    await until(() => validator.server.roundsRun >= rounds + 3, 30_000, '3 rounds without the chain');
    const down = await statusOf(validator);
    expect(down.chain).toMatchObject({ connected: false, lastError: { code: 'Disconnected' } });
    expect(down.chain.disconnectedSince).toEqual(expect.any(Number));
    expect(down.miners.reduce((s, m) => s + m.answers.image + m.answers.video, 0)).toBeGreaterThan(answersBefore);
    const offline = (await validator.updateWeights()) as WeightsOutcome;
    expect(offline).toMatchObject({ ok: false, action: 'failed', code: 'Disconnected' });
    expect(offline.detail).toMatch(/unreachable .* weights wait until it is back; miners are still scored/);
    timings.outage = Date.now() - t;

    // The same chain (its db resumed) on the same port.
    const t2 = Date.now();
    net = await startLocalnet({ spec: defaultSpec(), db: chainDb, resume: true, port });
    expect(net.port).toBe(port);
    timings.resume = Date.now() - t2;
    await until(() => validator.chain!.connected, 60_000, 'the validator to reconnect');
    timings.reconnect = Date.now() - t2;
    expect(logged(/^reconnected to the chain at ws:\/\/127\.0\.0\.1:\d+ after [\d.]+ s \(\d+ attempts\)/)).toBe(true);
    expect(validator.chain!.status().reconnectAttempts).toBeGreaterThanOrEqual(1);
    api = await connectApi();

    const { outcome, expected } = await cycleAfterRound(validator);
    expect(outcome, outcome.detail).toMatchObject({ ok: true, action: 'set' });
    expect({ uids: outcome.uids, weights: outcome.values }).toEqual(expected);
    const onChain = await readWeights(api, netuid, validatorUid);
    expect(outcome.uids!.map((u) => onChain.get(u))).toEqual(outcome.values);
    expect(logged(/^commit-reveal was switched off for subnet \d+: weights are set directly again/)).toBe(true);
    expect((await statusOf(validator)).chain).toMatchObject({
      connected: true,
      commitReveal: false,
      disconnectedSince: null,
      lastError: null,
    });
  }, 150_000);

  it('restarted mid-tempo on the same db: scores kept, the pending commit revealed by the new process, no second update inside the rate limit', async () => {
    const t = Date.now();
    await sudoSetHyperparams(api, alice, netuid, { commitReveal: true });
    const { outcome } = await cycleAfterRound(validator);
    expect(outcome, outcome.detail).toMatchObject({ ok: true, action: 'committed' });
    const reveal = validator.chain!.status().pendingCommits[0]!;

    // Miners leave and the round in flight ends (its silent miner times out), so the scores stop moving.
    for (const m of miners) m.stop();
    await until(() => validator.server.connected().length === 0, 10_000, 'the miners to leave');
    await new Promise((r) => setTimeout(r, 1500));
    const scoresBefore = validator.server.scores();
    const historyBefore = (await statusOf(validator)).weights;
    await validator.close();

    validator = await startValidator();
    const scoresAfter = validator.server.scores();
    expect(scoresAfter.size).toBe(scoresBefore.size);
    for (const [hotkey, s] of scoresBefore) expect(scoresAfter.get(hotkey)?.score).toBe(s.score);
    const restarted = await statusOf(validator);
    expect(restarted.weights.slice(0, historyBefore.length)).toEqual(historyBefore);
    expect(restarted.chain.pendingCommits).toEqual([reveal]);
    expect(logged(/^found 1 weight commit\(s\) not revealed yet/)).toBe(true);

    // The new process reveals the old process's commit in its window.
    if ((await head()) + 1 < reveal.revealFirst!) await advanceBlocks(api, reveal.revealFirst! - (await head()) - 1);
    await until(() => validator.chain!.status().pendingCommits.length === 0, 30_000, 'the reveal by the new process');
    const onChain = await readWeights(api, netuid, validatorUid);
    expect(reveal.uids.map((u) => onChain.get(u))).toEqual(reveal.values);
    expect(logged(/^weights revealed on chain/)).toBe(true);

    // The rate limit counts from the chain's LastUpdate (the old process's commit): no second update inside it.
    await sudoSetHyperparams(api, alice, netuid, { commitReveal: false, weightsSetRateLimit: 1000 });
    const before = await weightsState(api, netuid, alice.address);
    expect(before.lastUpdate).toBe(reveal.commitBlock);
    const again = (await validator.updateWeights()) as WeightsOutcome;
    expect(again).toMatchObject({ ok: false, action: 'waiting' });
    expect(again.detail).toBe(
      `rate-limited: next weights allowed at block ${reveal.commitBlock! + 1000} (now ${before.head}; last update at block ${reveal.commitBlock}, WeightsSetRateLimit 1000)`,
    );
    expect((await weightsState(api, netuid, alice.address)).lastUpdate).toBe(reveal.commitBlock);
    expect((await statusOf(validator)).chain.nextWeightsBlock).toBe(reveal.commitBlock! + 1000);
    timings.restart = Date.now() - t;
  }, 120_000);

  it('chain errors in plain words, decoded from the real runtime and shown in the logs and the status API', async () => {
    // SettingWeightsTooFast, from the chain itself (precheck off): the rate limit of the previous test is still on.
    const tooFast = await setWeights(api, alice, netuid, [1], [65535], versionKey, { precheck: false });
    expect(tooFast).toMatchObject({ ok: false, code: 'SettingWeightsTooFast', precheck: false });
    if (!tooFast.ok) {
      expect(tooFast.chainError).toMatch(/^SubtensorModule\.SettingWeightsTooFast: /);
      expect(tooFast.explanation).toMatch(/^Weights were set too recently.*Next allowed at block \d+\.$/);
    }
    await sudoSetHyperparams(api, alice, netuid, { weightsSetRateLimit: 0 });

    // NeuronNoValidatorPermit: a miner hotkey (registered, no stake, no permit) weighting another uid.
    const bob = await keyFromUri(MINERS.model);
    const other = uidOf.get((await keyFromUri(MINERS.random)).address)!;
    const noPermit = await setWeights(api, bob, netuid, [other], [65535], versionKey, { precheck: false });
    expect(noPermit).toMatchObject({ ok: false, code: 'NeuronNoValidatorPermit', precheck: false });
    if (!noPermit.ok) {
      expect(noPermit.chainError).toMatch(/^SubtensorModule\.NeuronNoValidatorPermit: /);
      expect(noPermit.explanation).toMatch(/^This hotkey has no validator permit on the subnet/);
    }

    // IncorrectWeightVersionKey: the subnet requires a newer validator than ours.
    await sudoSetHyperparams(api, alice, netuid, { weightsVersionKey: versionKey + 1 });
    const oldKey = await setWeights(api, alice, netuid, [other], [65535], versionKey, { precheck: false });
    expect(oldKey).toMatchObject({ ok: false, code: 'IncorrectWeightVersionKey', precheck: false });
    if (!oldKey.ok) expect(oldKey.chainError).toMatch(/^SubtensorModule\.IncorrectWeightVersionKey: /);

    // The validator's own cycle: the same rule, in plain words in its log and on the status page.
    const cycle = (await validator.updateWeights()) as WeightsOutcome;
    expect(cycle).toMatchObject({ ok: false, action: 'failed', code: 'IncorrectWeightVersionKey' });
    expect(logged(/^weights not set: The validator's version key is below the subnet's WeightsVersionKey/, 'warn')).toBe(true);
    const { chain } = await statusOf(validator);
    expect(chain.lastError).toMatchObject({ code: 'IncorrectWeightVersionKey' });
    expect(chain.lastError!.message).toBe(
      `The validator's version key is below the subnet's WeightsVersionKey: the subnet requires a newer validator release. Update the validator. (ours ${versionKey}, the subnet requires ${versionKey + 1})`,
    );
    expect(chain.lastWeights).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^IncorrectWeightVersionKey: /) });
  }, 60_000);

  it('a commit whose confirmation never came back (validator stopped after sending it) is found on chain and revealed', async () => {
    await sudoSetHyperparams(api, alice, netuid, { commitReveal: true, weightsVersionKey: 0 });
    const uids = [...uidOf.values()].sort((a, b) => a - b);
    const values = [65535, 30000, 1];
    const salt = randomSalt();
    // The row a validator leaves when it stops between sending a commit and hearing back: salt kept, no block yet.
    // (Stopping a process at that exact instant cannot be arranged reliably, so the test writes the row itself.)
    const store = new Store(validatorDb);
    store.savePendingCommit({
      netuid,
      hotkey: alice.address,
      hash: commitHash(alice.publicKey, netuid, uids, values, salt, versionKey),
      uids,
      values,
      salt,
      versionKey: String(versionKey),
      commitBlock: null,
      revealFirst: null,
      revealLast: null,
      weightsId: null,
      createdAt: Date.now(),
    });
    store.close();
    const sent = await commitWeights(api, alice, netuid, uids, values, versionKey, { salt });
    expect(sent.ok).toBe(true);
    if (!sent.ok) return;
    await until(
      () => validator.chain!.status().pendingCommits[0]?.commitBlock === sent.commitBlock,
      20_000,
      'the validator to find the commit on chain',
    );
    expect(logged(/^unconfirmed weight commit found on chain at block \d+/)).toBe(true);
    expect(validator.chain!.status().pendingCommits[0]).toMatchObject({
      revealFirst: sent.reveal.first,
      revealLast: sent.reveal.last,
    });
    await advanceBlocks(api, sent.reveal.first - (await head()) - 1);
    await until(() => validator.chain!.status().pendingCommits.length === 0, 30_000, 'the reveal');
    const onChain = await readWeights(api, netuid, validatorUid);
    expect(uids.map((u) => onChain.get(u))).toEqual(values);
  }, 90_000);
});
