// Integration (issue 24, item 5): miners check their validators on the real chain. The real subtensor runtime under
// chopsticks (offline), a bootstrapped subnet (//Alice: validator, staked, with a permit; //Bob: a miner), and three
// validators on loopback signing as //Alice, //Bob (registered, no stake) and //Ferdie (not registered). A Node
// reference miner that reads each validator's standing from the chain mines only for the qualified one, and says
// why it refuses the others in plain words.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { judgeValidator, readValidatorStanding, type StandingQueries } from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChallengeDataset } from './challenges/dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from './challenges/factory.js';
import { createLogger } from './log.js';
import { type MinerEvent, NodeMiner } from './miner/node-miner.js';
import { ValidatorServer } from './server.js';
import { createMetrics } from './status/metrics.js';
import { Store } from './store.js';
import { DATASET, until } from './test-support/helpers.js';
import { type Subnet, startSubnet } from './test-support/subnet.js';

describe('miners mine only for validators with a permit and stake (real chain)', () => {
  let subnet: Subnet;
  let netuid: number;
  let q: StandingQueries;
  const servers = new Map<string, ValidatorServer>();
  const stores: Store[] = [];
  const miners: NodeMiner[] = [];
  const keyring = new Keyring({ type: 'sr25519' });
  const key = (uri: string) => keyring.addFromUri(uri);

  beforeAll(async () => {
    subnet = await startSubnet(['//Bob', '//Charlie']);
    netuid = subnet.boot.netuid;
    q = subnet.api.query.subtensorModule as unknown as StandingQueries;
    for (const uri of ['//Alice', '//Bob', '//Ferdie']) {
      const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-standing-')), 'v.db'));
      stores.push(store);
      const server = new ValidatorServer({
        host: '127.0.0.1',
        port: 0,
        netuid,
        signer: key(uri),
        store,
        factory: new ChallengeFactory(ChallengeDataset.load(DATASET), {
          ...DEFAULT_CHALLENGE_CONFIG,
          modalityMix: { image: 1, video: 0 },
          seed: `standing-${uri}`,
        }),
        metrics: createMetrics(),
        log: createLogger('error'),
        sampleSize: 5,
        timeoutMs: 2000,
        roundIntervalMs: 200,
        heartbeatMs: 2000,
      });
      await server.listen();
      servers.set(uri, server);
    }
  }, 240_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    for (const s of servers.values()) await s.close();
    for (const s of stores) s.close();
    await subnet?.close();
  }, 60_000);

  /** A random-answer miner (//Charlie) dialling the validator signed by `uri`, checking it on chain. */
  async function mine(uri: string, minStake: number) {
    const events: MinerEvent[] = [];
    const m = new NodeMiner({
      url: `ws://127.0.0.1:${servers.get(uri)!.port}/`,
      signer: key('//Charlie'),
      netuid,
      behaviour: 'random',
      checkValidator: async (hotkey) => judgeValidator(await readValidatorStanding(q, netuid, hotkey), { minStake }),
      onEvent: (e) => events.push(e),
    });
    miners.push(m);
    await m.start();
    return { m, events };
  }

  it('mines for the staked validator with a permit', async () => {
    const standing = await readValidatorStanding(q, netuid, key('//Alice').address);
    expect(standing.validatorPermit).toBe(true);
    expect(standing.stake).toBeGreaterThan(0);
    const { m, events } = await mine('//Alice', standing.stake);
    await until(() => m.answered >= 2, 30_000, 'two answers to //Alice');
    expect(events.some((e) => e.type === 'refused')).toBe(false);
    m.stop();
  }, 60_000);

  it('refuses, in plain words, a validator with too little stake, one without a permit or stake, and an unregistered one', async () => {
    const alice = await readValidatorStanding(q, netuid, key('//Alice').address);
    const cases = [
      {
        uri: '//Alice',
        minStake: alice.stake * 10,
        expect: /has [\d.]+ alpha staked on subnet \d+, less than the [\d.]+ this miner requires/,
      },
      {
        uri: '//Bob',
        minStake: 1,
        expect: /holds no validator permit|alpha staked on subnet \d+, less than the 1 this miner requires/,
      },
      { uri: '//Ferdie', minStake: 0, expect: new RegExp(`it is not registered on subnet ${netuid}`) },
    ];
    for (const c of cases) {
      const { m, events } = await mine(c.uri, c.minStake);
      await until(() => events.some((e) => e.type === 'refused'), 30_000, `the miner to refuse ${c.uri}`);
      const refused = events.find((e) => e.type === 'refused');
      expect(refused?.type === 'refused' && refused.message).toMatch(c.expect);
      expect(refused?.type === 'refused' && refused.message).toMatch(/^Not mining for validator 5\w{7}…: /);
      // The validator never saw an auth: no connection of //Charlie, no answers.
      expect(servers.get(c.uri)!.connected()).not.toContain(key('//Charlie').address);
      expect(m.answered).toBe(0);
      console.log(`${c.uri} (min stake ${c.minStake}): ${refused?.type === 'refused' ? refused.message : ''}`);
      m.stop();
    }
  }, 120_000);
});
