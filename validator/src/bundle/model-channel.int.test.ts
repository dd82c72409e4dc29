// Integration (issue 25): the model channel on the real subtensor runtime (chopsticks, offline). Two miners publish
// different bundles with veracity-bundle's path (the shipped detector, the untrained tiny fixture), served over HTTP;
// a real validator scores real Node miners answering with the bundles they downloaded from those URLs, sets weights,
// and after an epoch the detector's miner has the higher incentive on chain. A third miner declares the detector's
// sha256 without publishing it: flagged mismatch and, with unpublishedShare 0, left without weight.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { bundleDigest, decodeModelCommitment, pickNetworkModel } from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUsage, run } from '../../../models/cli/cli-test-support.js';
import { advanceBlocks } from '../chain/tx.js';
import { NodeMiner } from '../miner/node-miner.js';
import type { StatusSnapshot } from '../status/types.js';
import {
  BUNDLE_DIRS,
  type PublishedSubnet,
  rankBundles,
  type RankedBundles,
  startPublishedSubnet,
} from '../test-support/published-subnet.js';

const BIN = fileURLToPath(new URL('../../bin/veracity-bundle.mjs', import.meta.url));

describe('the model channel on a local subnet', () => {
  let ps: PublishedSubnet;
  let ranked: RankedBundles;
  const dave = new Keyring({ type: 'sr25519' }).addFromUri('//Dave');

  beforeAll(async () => {
    ps = await startPublishedSubnet({ otherMiners: ['//Dave'] });
    ranked = await rankBundles(ps, {
      rounds: 24,
      config: { unpublishedShare: 0 },
      // //Dave answers with the detector and declares it, but published nothing.
      extra: (url, detectors) => [
        new NodeMiner({
          url,
          signer: dave,
          netuid: ps.netuid,
          behaviour: 'model',
          detector: detectors.detector,
          bundleSha256: ps.published.detector.sha256,
        }),
      ],
    });
  }, 420_000);

  afterAll(async () => {
    await ranked?.stop();
    await ps?.close();
  }, 60_000);

  it('publishes both bundles on chain: the id is the sha256 of manifest.json, read back from commitmentOf', () => {
    for (const name of ['detector', 'tiny'] as const) {
      const p = ps.published[name];
      expect(p.sha256).toBe(bundleDigest(readFileSync(join(BUNDLE_DIRS[name], 'manifest.json'))));
      const record = decodeModelCommitment(ranked.metagraph.commitments.get(p.hotkey));
      expect(record.ok && record.value).toMatchObject({ sha256: p.sha256, version: p.version, url: p.url });
    }
    expect(ps.published.detector.version).not.toBe(ps.published.tiny.version);
    expect(ranked.metagraph.commitments.has(dave.address)).toBe(false);
  });

  it('after an epoch the shipped detector has the higher incentive, and the network picks it', () => {
    const inc = (uid: number) => ranked.metagraph.byUid.get(uid)!.incentive;
    const { detector, tiny } = ps.published;
    console.log('incentive', { detector: inc(detector.uid), tiny: inc(tiny.uid), mismatch: inc(ps.subnet.uidOf(dave.address)) });
    expect(inc(detector.uid)).toBeGreaterThan(inc(tiny.uid));
    expect(inc(ps.subnet.uidOf(dave.address))).toBe(0);
    const pick = pickNetworkModel(
      ranked.metagraph.uids.map((n) => {
        const c = decodeModelCommitment(ranked.metagraph.commitments.get(n.hotkey));
        return { uid: n.uid, hotkey: n.hotkey, incentive: n.incentive, ...(c.ok ? { model: c.value } : {}) };
      }),
    );
    expect(pick.ok && pick.model.sha256).toBe(detector.sha256);
  });

  it('/api/status shows both bundles on the leaderboard and flags the miner that declares what it did not publish', async () => {
    const base = ranked.validator.url.replace(/^ws/, 'http');
    const status = (await (await fetch(`${base}api/status`)).json()) as StatusSnapshot;
    const rows = status.bundles.leaderboard;
    console.log(rows.map((r) => `${r.uid} ${r.state} ${r.version} ${r.sha256?.slice(0, 8)} ${r.weight.toFixed(3)}`));
    expect(status.bundles.unpublishedShare).toBe(0);
    const row = (hotkey: string) => rows.find((r) => r.hotkey === hotkey)!;
    const { detector, tiny } = ps.published;
    expect(row(detector.hotkey)).toMatchObject({
      uid: detector.uid,
      state: 'published',
      version: detector.version,
      sha256: detector.sha256,
    });
    expect(row(tiny.hotkey)).toMatchObject({ uid: tiny.uid, state: 'published', version: tiny.version, sha256: tiny.sha256 });
    expect(row(dave.address)).toMatchObject({ state: 'mismatch', version: null, weight: 0 });
    expect(rows[0]!.hotkey).toBe(detector.hotkey);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.weight).toBeGreaterThanOrEqual(rows[i]!.weight);
    expect(row(detector.hotkey).scores.image).not.toBeNull();
    const daveStatus = status.miners.find((m) => m.hotkey === dave.address)!;
    expect(daveStatus.bundle).toMatchObject({ state: 'mismatch', declared: detector.sha256, missing: 'none' });
    expect(daveStatus.bundle.detail).toMatch(/declares bundle \w+… but has no commitment on chain/);

    const metrics = await (await fetch(`${base}metrics`)).text();
    expect(metrics).toContain(`veracity_bundle_mismatches_total{hotkey="${dave.address}"} 1`);
  });

  it('veracity-bundle publish as a miner runs it: an unregistered hotkey is refused; //Dave publishes and is no longer a mismatch', async () => {
    const args = ['publish', '--bundle', BUNDLE_DIRS.detector, '--url', ps.published.detector.url];
    const chain = { VERACITY_CHAIN: ps.subnet.net.endpoint, VERACITY_NETUID: String(ps.netuid) };
    expectUsage(
      await run(BIN, args, { ...chain, VERACITY_MINER_URI: '//Ferdie' }),
      'veracity-bundle',
      new RegExp(`E_NOT_REGISTERED: hotkey \\w+ is not registered on netuid ${ps.netuid}`),
    );
    const r = await run(BIN, args, { ...chain, VERACITY_MINER_URI: '//Dave' });
    console.log(r.stdout);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`published at block \\d+ on netuid ${ps.netuid} by ${dave.address}`));
    expect(r.stdout).toContain(`sha256   ${ps.published.detector.sha256}`);
    // The validator sees it at its next metagraph read (every few blocks), and the declaration now matches.
    const base = ranked.validator.url.replace(/^ws/, 'http');
    const daveState = async () =>
      ((await (await fetch(`${base}api/status`)).json()) as StatusSnapshot).miners.find((m) => m.hotkey === dave.address)!.bundle;
    let state = await daveState();
    for (let i = 0; i < 20 && state.state !== 'published'; i++) {
      await advanceBlocks(ps.subnet.api, 1);
      await new Promise((ok) => setTimeout(ok, 250));
      state = await daveState();
    }
    expect(state).toMatchObject({ state: 'published', committed: { sha256: ps.published.detector.sha256 } });
  }, 120_000);
});
