// Integration: the copier flag. A real validator (real dataset, per-miner variants, SQLite) with Node reference
// miners over real WebSockets: two honest miners running the shipped bundle, and three more hotkeys relaying the
// first honest miner's answers (each receives its own variant, so it must relay, not match bytes). The validator
// must flag the relaying hotkeys and their source as one group, leave the other honest miner alone, show the
// group in /metrics and, with copy policy 'share', give the group one miner's share.
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type Detector, loadNodeDetector } from '@veracity/models/node';
import { defaultBundleDir } from '@veracity/models/paths';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeMiner } from './miner/node-miner.js';
import { ValidatorServer } from './server.js';
import type { Metrics } from './status/metrics.js';
import { until } from './test-support/helpers.js';
import { startTestValidator, type TestValidator } from './test-support/validator.js';
import { AnswerRelay } from './test-support/relay.js';

describe('copy detection (real validator, real miners, real sockets)', () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const key = (uri: string) => keyring.addFromUri(uri);
  const addr = (uri: string) => key(uri).address;
  let server: ValidatorServer;
  let v: TestValidator;
  let metrics: Metrics;
  let detector: Detector;
  const miners: NodeMiner[] = [];
  const copiers = ['//Dave', '//Eve', '//Ferdie'];

  beforeAll(async () => {
    await cryptoWaitReady();
    detector = await loadNodeDetector(defaultBundleDir());
    v = await startTestValidator('copy-test', { timeoutMs: 4000, copy: { policy: 'share' } });
    ({ server, metrics } = v);
    const url = v.url;
    const relay = new AnswerRelay();
    const mk = (uri: string, o: Partial<ConstructorParameters<typeof NodeMiner>[0]>) => {
      const m = new NodeMiner({ url, signer: key(uri), netuid: 7, behaviour: 'model', detector, ...o });
      miners.push(m);
      return m;
    };
    mk('//Bob', { onEvent: (e) => e.type === 'answered' && relay.onSourceAnswer(e.probabilities) });
    mk('//Charlie', {});
    for (const uri of copiers) mk(uri, { behaviour: 'custom', answerWith: (c) => relay.next(Date.now(), c.deadline) });
    await Promise.all(miners.map((m) => m.start()));
    await until(() => server.roundsRun >= 45, 150_000, '45 rounds');
  }, 180_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await v.close();
    await detector.dispose();
  });

  it('flags the relaying hotkeys and their source as one group, and not the other honest miner', () => {
    const report = server.copying();
    expect(report.groups).toEqual([[addr('//Bob'), ...copiers.map(addr)].sort()]);
    const honest = report.pairs.find((p) => [p.a, p.b].sort().join() === [addr('//Bob'), addr('//Charlie')].sort().join())!;
    // The same model on two variants of one item: the numbers differ, so no flag.
    console.log('honest pair (same bundle, own variants):', JSON.stringify(honest));
    expect(honest.flagged).toBe(false);
    expect(honest.shared).toBeGreaterThanOrEqual(30);
  });

  it("shows the group in /metrics and, with policy 'share', gives it one miner's share: the source's", async () => {
    const text = await metrics.registry.getSingleMetricAsString('veracity_copy_group_size');
    for (const uri of ['//Bob', ...copiers]) expect(text).toContain(`veracity_copy_group_size{hotkey="${addr(uri)}"} 4`);
    expect(text).not.toContain(addr('//Charlie'));
    // The relays answer after //Bob: it leads the group, keeps its score, and the relays get nothing.
    expect(server.copying().leaders).toEqual([addr('//Bob')]);
    const scores = server.scores();
    const bob = scores.get(addr('//Bob'))!;
    expect(bob.score).toBe(bob.detail.score);
    expect(bob.weight).toBeGreaterThan(0);
    for (const uri of copiers) expect(scores.get(addr(uri))).toMatchObject({ score: 0, weight: 0 });
    const charlie = scores.get(addr('//Charlie'))!;
    expect(charlie.score).toBe(charlie.detail.score);
  });
});
