/**
 * "A subnet with two published bundles served over HTTP", for chain-backed integration and e2e tests of the model
 * channel: the local chain (startSubnet), one read-only bundle server holding the shipped detector (models/bundle)
 * and the untrained tiny fixture (models/fixtures/tiny), and two registered miners that published them with
 * veracity-bundle's own path (publishBundle). `rankBundles` then has a real validator score real Node miners answering
 * with those bundles, sets weights and runs an epoch, so the chain's incentive ranks the bundles.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { type Detector, loadNodeDetector } from '@veracity/models/node';
import { publishBundle } from '../bundle/publish.js';
import { serveBundles, type ServedBundles } from '../bundle/serve.js';
import { advanceBlocks } from '../chain/tx.js';
import { type Metagraph, readMetagraph } from '../chain/metagraph.js';
import { DEFAULTS, type ValidatorConfig } from '../config.js';
import { runValidator, type RunningValidator } from '../main.js';
import { NodeMiner } from '../miner/node-miner.js';
import { DATASET, until } from './helpers.js';
import { type Subnet, startSubnet } from './subnet.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The two bundles every test of the model channel publishes. */
export const BUNDLE_DIRS = { detector: join(ROOT, 'models/bundle'), tiny: join(ROOT, 'models/fixtures/tiny') } as const;
export type BundleName = keyof typeof BUNDLE_DIRS;

export interface PublishedMiner {
  name: BundleName;
  uri: string;
  hotkey: string;
  uid: number;
  dir: string;
  /** The bundle folder's URL on the bundle server (what the commitment names). */
  url: string;
  sha256: string;
  version: string;
  /** The block the commitment was included in. */
  block: number;
}

export interface PublishedSubnet {
  subnet: Subnet;
  netuid: number;
  /** The bundle server: `<url>detector/` and `<url>tiny/`. */
  served: ServedBundles;
  /** By bundle name: detector (//Bob by default), tiny (//Charlie). */
  published: Record<BundleName, PublishedMiner>;
  close(): Promise<void>;
}

export interface PublishedSubnetOptions {
  /** Miner hotkeys (dev URIs) that publish the detector and the tiny fixture. Default //Bob and //Charlie. */
  detectorMiner?: string;
  tinyMiner?: string;
  /** Further miners registered but publishing nothing (e.g. one that declares what it did not publish). */
  otherMiners?: string[];
  /** Where the bundle server listens (default 127.0.0.1, any free port). */
  host?: string;
}

export async function startPublishedSubnet(o: PublishedSubnetOptions = {}): Promise<PublishedSubnet> {
  const uris = { detector: o.detectorMiner ?? '//Bob', tiny: o.tinyMiner ?? '//Charlie' };
  const subnet = await startSubnet([uris.detector, uris.tiny, ...(o.otherMiners ?? [])]);
  let served: ServedBundles | undefined;
  try {
    served = await serveBundles(
      { '/detector/': BUNDLE_DIRS.detector, '/tiny/': BUNDLE_DIRS.tiny },
      { host: o.host ?? '127.0.0.1' },
    );
    const keyring = new Keyring({ type: 'sr25519' });
    const netuid = subnet.boot.netuid;
    const published = {} as Record<BundleName, PublishedMiner>;
    // One after the other: both are signed by different keys, but a block each keeps the read-backs simple.
    for (const name of ['detector', 'tiny'] as const) {
      const signer = keyring.addFromUri(uris[name]);
      const url = served.bundles.find((b) => b.prefix === `/${name}/`)!.url;
      const r = await publishBundle({ api: subnet.api, signer, netuid, dir: BUNDLE_DIRS[name], url, inference: false });
      published[name] = {
        name,
        uri: uris[name],
        hotkey: signer.address,
        uid: subnet.uidOf(signer.address),
        dir: BUNDLE_DIRS[name],
        url,
        sha256: r.readBack.sha256,
        version: r.readBack.version,
        block: r.block,
      };
    }
    const s = served;
    return {
      subnet,
      netuid,
      served: s,
      published,
      close: async () => {
        await s.close();
        await subnet.close();
      },
    };
  } catch (e) {
    await served?.close();
    await subnet.close();
    throw e;
  }
}

export interface RankedBundles {
  validator: RunningValidator;
  miners: NodeMiner[];
  /** The metagraph after the epoch that followed the weights: `incentive` per uid, commitments by hotkey. */
  metagraph: Metagraph;
  stop(): Promise<void>;
}

/**
 * A real validator (//Alice, the dataset at $VERACITY_DATASET, image challenges) scores one Node miner per published
 * bundle, each answering with that bundle and declaring it; plus `extra` miners of your own (same validator URL).
 * After `rounds` rounds it sets weights on chain and builds blocks until an epoch has turned them into incentive.
 */
export async function rankBundles(
  ps: PublishedSubnet,
  o: {
    rounds?: number;
    config?: Partial<ValidatorConfig>;
    extra?: (validatorUrl: string, detectors: Record<BundleName, Detector>) => NodeMiner[];
  } = {},
): Promise<RankedBundles> {
  const { subnet, netuid } = ps;
  const validator = await runValidator({
    ...DEFAULTS,
    dataset: DATASET,
    db: join(mkdtempSync(join(tmpdir(), 'veracity-published-')), 'v.db'),
    port: 0,
    seed: 'published-subnet',
    roundIntervalMs: 0,
    timeoutMs: 3000,
    videoShare: 0,
    chainEndpoint: subnet.net.endpoint,
    netuid,
    hotkeyUri: '//Alice',
    weightsIntervalMs: 3_600_000,
    logLevel: 'warn',
    ...o.config,
  });
  const detectors = {} as Record<BundleName, Detector>;
  const miners: NodeMiner[] = [];
  const stop = async () => {
    for (const m of miners) m.stop();
    await validator.close();
    for (const d of Object.values(detectors)) await d.dispose();
  };
  try {
    const keyring = new Keyring({ type: 'sr25519' });
    for (const p of Object.values(ps.published)) {
      detectors[p.name] = await loadNodeDetector(p.url, { threads: 1 });
      miners.push(
        new NodeMiner({
          url: validator.url,
          signer: keyring.addFromUri(p.uri),
          netuid,
          behaviour: 'model',
          detector: detectors[p.name],
          bundleSha256: p.sha256,
        }),
      );
    }
    miners.push(...(o.extra?.(validator.url, detectors) ?? []));
    await Promise.all(miners.map((m) => m.start()));
    const rounds = o.rounds ?? 20;
    await until(() => validator.server.roundsRun >= rounds, 180_000, `${rounds} rounds`);
    const outcome = await validator.updateWeights();
    if (!outcome.ok) throw new Error(`weights were not set: ${outcome.detail}`);
    // The epoch turns weights into incentive once per tempo: build blocks until it has (at most three tempos).
    const tempo = Number((await subnet.api.query.subtensorModule!.tempo!(netuid)).toString());
    let metagraph = await readMetagraph(subnet.api, netuid);
    for (let i = 0; i < 3 * (tempo + 1) && !metagraph.uids.some((n) => n.incentive > 0); i++) {
      await advanceBlocks(subnet.api, 1);
      metagraph = await readMetagraph(subnet.api, netuid);
    }
    return { validator, miners, metagraph, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
