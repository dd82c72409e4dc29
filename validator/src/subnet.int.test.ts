// Integration (issue 4): the real subtensor runtime under chopsticks, a bootstrapped subnet, the validator with the
// dataset, and three Node reference miners (the shipped model, random answers, silence). Weights are read back on chain.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { type Detector, loadNodeDetector } from '@veracity/models/node';
import { defaultBundleDir } from '@veracity/models/paths';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWeights } from './chain/weights.js';
import { DEFAULTS } from './config.js';
import { runValidator, type RunningValidator } from './main.js';
import { NodeMiner } from './miner/node-miner.js';
import { DATASET, until } from './test-support/helpers.js';
import { type Subnet, startSubnet } from './test-support/subnet.js';

describe('a validator on a local subnet', () => {
  let subnet: Subnet;
  let validator: RunningValidator;
  let detector: Detector;
  let netuid: number;
  let validatorUid: number;
  const miners: NodeMiner[] = [];
  const keyring = new Keyring({ type: 'sr25519' });
  const key = (uri: string) => keyring.addFromUri(uri);

  beforeAll(async () => {
    subnet = await startSubnet(['//Bob', '//Charlie', '//Dave']);
    netuid = subnet.boot.netuid;
    validatorUid = subnet.boot.validatorUid;
    detector = await loadNodeDetector(defaultBundleDir());
    validator = await runValidator({
      ...DEFAULTS,
      dataset: DATASET,
      db: join(mkdtempSync(join(tmpdir(), 'veracity-subnet-')), 'v.db'),
      port: 0,
      seed: 'subnet-test',
      roundIntervalMs: 0,
      timeoutMs: 1500,
      chainEndpoint: subnet.net.endpoint,
      netuid,
      hotkeyUri: '//Alice',
      weightsIntervalMs: 3_600_000,
      logLevel: 'warn',
    });
  }, 180_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await validator?.close();
    await detector?.dispose();
    await subnet?.close();
  }, 60_000);

  it('scores three miners and sets weights on chain: the silent miner gets zero', async () => {
    const mk = (uri: string, behaviour: 'model' | 'random' | 'silent') => {
      const m = new NodeMiner({ url: validator.url, signer: key(uri), netuid, behaviour, detector });
      miners.push(m);
      return m;
    };
    const all = [mk('//Bob', 'model'), mk('//Charlie', 'random'), mk('//Dave', 'silent'), mk('//Eve', 'model')];
    await Promise.all(all.map((m) => m.start()));
    await until(() => all[3]!.lastClose !== undefined, 20_000, 'the unregistered miner to be refused');
    expect(all[3]!.lastClose?.code).toBe(4004);
    await until(() => validator.server.roundsRun >= 20, 120_000, '20 rounds');

    const scores = validator.server.scores();
    const score = (uri: string) => scores.get(key(uri).address)!;
    expect(score('//Bob').uid).toBe(subnet.uidOf(key('//Bob').address));
    expect(score('//Dave').score).toBe(0);
    const result = await validator.updateWeights();
    console.log(
      'scores',
      { model: score('//Bob').score, random: score('//Charlie').score, silent: score('//Dave').score },
      result,
    );
    expect(result.ok, result.detail).toBe(true);

    const onChain = await readWeights(subnet.api, netuid, validatorUid);
    const w = (uri: string) => onChain.get(subnet.uidOf(key(uri).address)) ?? 0;
    expect(w('//Dave')).toBe(0);
    // The shipped model beats random guessing (the seed fixes the challenge stream).
    expect(w('//Bob')).toBe(65535);
    expect(w('//Charlie')).toBeLessThan(w('//Bob'));
    // On-chain weights are the validator's scores, max-upscaled to 65535: the same order, the best at the top.
    const best = [...scores.values()].reduce((a, b) => (b.score > a.score ? b : a));
    expect(onChain.get(best.uid!)).toBe(65535);
    for (const uri of ['//Bob', '//Charlie']) {
      expect(w(uri)).toBe(Math.round((65535 * score(uri).score) / best.score));
    }
  }, 240_000);
});
