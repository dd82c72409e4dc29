import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { ChallengeDataset } from '../challenges/dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from '../challenges/factory.js';
import { createLogger } from '../log.js';
import { ValidatorServer, type ValidatorServerOptions } from '../server.js';
import { createMetrics, type Metrics } from '../status/metrics.js';
import { Store } from '../store.js';
import { DATASET } from './helpers.js';

export interface TestValidator {
  server: ValidatorServer;
  store: Store;
  metrics: Metrics;
  url: string;
  close: () => Promise<void>;
}

/**
 * A real validator on loopback for integration tests: the dataset at $VERACITY_DATASET, image challenges under
 * `seed`, a fresh SQLite file, signed by `signer` (default //Alice), everyone admitted; `o` overrides the rest.
 */
export async function startTestValidator(
  seed: string,
  o: Partial<ValidatorServerOptions> & { signerUri?: string } = {},
): Promise<TestValidator> {
  const { signerUri = '//Alice', ...overrides } = o;
  const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-test-')), 'v.db'));
  const metrics = createMetrics();
  const server = new ValidatorServer({
    host: '127.0.0.1',
    port: 0,
    netuid: 7,
    signer: new Keyring({ type: 'sr25519' }).addFromUri(signerUri),
    store,
    factory: new ChallengeFactory(ChallengeDataset.load(DATASET), {
      ...DEFAULT_CHALLENGE_CONFIG,
      modalityMix: { image: 1, video: 0 },
      seed,
    }),
    metrics,
    log: createLogger('error'),
    sampleSize: 10,
    timeoutMs: 3000,
    roundIntervalMs: 0,
    heartbeatMs: 2000,
    ...overrides,
  });
  const url = await server.listen();
  return {
    server,
    store,
    metrics,
    url,
    close: async () => {
      await server.close();
      store.close();
    },
  };
}
