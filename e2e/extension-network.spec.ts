// The proof of issue 25, end to end on a real local chain (the subtensor runtime under chopsticks): two miners publish
// different bundles (the shipped detector and the untrained tiny fixture) served over HTTP (startPublishedSubnet); a
// real validator scores real Node miners answering with them for a few rounds, sets weights and an epoch turns them
// into incentive (rankBundles), so the detector's miner ranks first by its answers, not by a weight the test picked.
// With the network model off nothing is read from the chain; turned on, an unreachable chain and then a tampered
// download (a man-in-the-middle sends another manifest than the one committed) are refused and the extension keeps
// scoring with its bundle; the genuine bundle is verified, self-tested and switched to, and the badge details and the
// popup name it. The recording proxy in front of the browser shows that only the test page, the chain and the bundle
// server were contacted, and a relay in front of the chain that only read methods were called.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { expect, type Page, test } from '@playwright/test';
import { type PublishedSubnet, rankBundles, startPublishedSubnet } from '@veracity/validator/test-support';
import {
  badges,
  buildExtension,
  expectOnlyChromiumProbes,
  type Launched,
  launchWithExtension,
  openBadge,
  pickImages,
  type RecordingProxy,
  startRecordingProxy,
  type ProxiedRequest,
  type TestFile,
} from './support/extension.js';
import { DATASET_DIR } from './support/images.js';
import { type RpcRelay, rpcRelay } from './support/network.js';
import { type Served, serveStatic } from './support/static-server.js';

test.describe.configure({ mode: 'serial' });
test.setTimeout(300_000);

let net: PublishedSubnet;
let relay: RpcRelay;
/** Incentive per uid after the validator's weights and an epoch, [0, 1]. */
let incentive: number[];
let proxy: RecordingProxy;
let browser: Launched | null = null;
let pages: Served;
let dir: string;
let profile: string;
let images: TestFile[];

const READ_METHODS = new Set(['chain_getBlockHash', 'state_getKeysPaged', 'state_queryStorageAt']);

async function open(url: string): Promise<Page> {
  const page = await browser!.context.newPage();
  await page.goto(url);
  await page.bringToFront();
  return page;
}

/** What the browser asked of the bundle server (through the proxy). */
function bundleRequests(): ProxiedRequest[] {
  return proxy.log.filter((r) => r.method !== 'CONNECT' && r.url.startsWith(net.served.url));
}

/** A page showing one dataset image (a new one per step, so each step's badge is a fresh score). */
async function scoredBadge(n: number) {
  const page = await open(`${pages.url}page-${n}.html`);
  await expect.poll(async () => (await badges(page)).filter((b) => b.probs.length === 3).length, { timeout: 90_000 }).toBe(1);
  const [badge] = await badges(page);
  return { page, badge: await openBadge(page, badge!.key) };
}

async function openOptions(): Promise<Page> {
  const page = await open(`chrome-extension://${browser!.extensionId}/src/options/index.html`);
  await page.getByTestId('network-model').waitFor();
  return page;
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const started = Date.now();
  [net] = await Promise.all([startPublishedSubnet(), buildExtension()]);
  // Real rounds: the validator challenges both miners with labelled dataset images; the untrained fixture answers
  // worse, so its share of the weights, and then of the incentive, is smaller. Stopped once ranked: only the chain
  // state it left behind matters to the extension.
  const ranked = await rankBundles(net);
  incentive = [];
  for (const n of ranked.metagraph.uids) incentive[n.uid] = n.incentive;
  const rounds = ranked.validator.server.roundsRun;
  await ranked.stop();
  console.log(`ranked by ${rounds} validator rounds and an epoch in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  relay = await rpcRelay(net.subnet.net.endpoint);
  const chain = new URL(relay.endpoint).host;
  proxy = await startRecordingProxy({ tunnel: (authority) => authority === chain });
  images = pickImages().filter((i) => i.label !== 'real');
  dir = mkdtempSync(join(tmpdir(), 'veracity-network-'));
  mkdirSync(join(dir, 'media'));
  for (const [n, img] of images.slice(0, 3).entries()) {
    copyFileSync(join(DATASET_DIR, img.rel), join(dir, 'media', img.name));
    writeFileSync(
      join(dir, `page-${n}.html`),
      `<!doctype html><meta charset="utf-8"><img src="/media/${img.name}" width="256" height="256">`,
    );
  }
  pages = await serveStatic({ '/': dir });
  profile = mkdtempSync(join(tmpdir(), 'veracity-profile-'));
  browser = await launchWithExtension(profile, { proxy });
});

test.afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await pages?.close();
  await relay?.close();
  await net?.close();
  for (const d of [profile, dir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('validator rounds rank the shipped detector first; with the network model off (the default) nothing is read', async () => {
  const { tiny, detector } = net.published;
  console.log(
    `incentive: tiny fixture uid ${tiny.uid} ${incentive[tiny.uid]!.toFixed(3)}, detector uid ${detector.uid} ${incentive[detector.uid]!.toFixed(3)}`,
  );
  expect(incentive[detector.uid]!).toBeGreaterThan(incentive[tiny.uid]!);

  const { page, badge } = await scoredBadge(0);
  expect(badge.text).toContain('bundled model veracity-detector 1.7.0');
  await page.close();
  const options = await openOptions();
  await expect(options.getByTestId('network-model')).not.toBeChecked();
  await expect(options.getByTestId('network-state')).toContainText('Network model is off: nothing is read from any chain.');
  await options.close();
  expect(relay.methods).toEqual([]);
  expect(bundleRequests()).toEqual([]);
  expect(await browser!.worker.evaluate(() => chrome.alarms.getAll())).toEqual([]);
});

test('a tampered download is refused (E_BUNDLE_DIGEST): the extension keeps its bundle and keeps scoring', async () => {
  const { detector } = net.published;
  const real = JSON.parse(readFileSync(join(detector.dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  // Another manifest than the committed one (same model file, a different calibration), put in by the proxy: a
  // man-in-the-middle, or a miner's server that no longer serves what was published.
  proxy.tamper(
    detector.url + 'manifest.json',
    Buffer.from(JSON.stringify({ ...real, calibration: { method: 'temperature', temperature: 0.01 } })),
  );
  const options = await openOptions();
  const state = options.getByTestId('network-state');
  // First a chain that is down (nothing listens on port 1): a clear error, and the bundled model stays.
  await options.getByTestId('chain-endpoint').fill('ws://127.0.0.1:1');
  await options.getByTestId('netuid').fill(String(net.netuid));
  await options.getByTestId('network-model').check();
  await expect(state).toContainText('Last error: E_CHAIN_UNREACHABLE', { timeout: 60_000 });
  await expect(state).toContainText('Current model: bundled with the extension');
  // Then the real chain, whose winning miner's server sends a manifest other than the one committed.
  await options.getByTestId('chain-endpoint').fill(relay.endpoint);
  await options.getByTestId('save-chain').click();
  await expect(state).toContainText('Last error: E_BUNDLE_DIGEST', { timeout: 60_000 });
  await expect(state).toContainText('Current model: bundled with the extension');
  await expect(state).toContainText(/Last check: just now \(failed\)/);
  console.log(`refused: ${await state.textContent()}`);
  // Only the manifest was fetched: the model behind a wrong manifest is never downloaded.
  expect(bundleRequests().map((r) => r.url)).toEqual([detector.url + 'manifest.json']);
  expect(bundleRequests().every((r) => r.headers.cookie === undefined && r.headers.authorization === undefined)).toBe(true);
  expect(relay.methods.length).toBeGreaterThan(0);
  expect(relay.methods.filter((m) => !READ_METHODS.has(m))).toEqual([]);
  await options.close();

  const { page, badge } = await scoredBadge(1);
  expect(badge.text).toContain('bundled model veracity-detector 1.7.0');
  await page.close();
});

test('the genuine bundle is verified, self-tested and switched to; badge details and the popup name it', async () => {
  const { detector } = net.published;
  proxy.tamper(detector.url + 'manifest.json', null);
  const options = await openOptions();
  await expect(options.getByTestId('check-now')).toBeEnabled();
  await options.getByTestId('check-now').click();
  const state = options.getByTestId('network-state');
  const named = `veracity-detector 1.7.0, miner uid ${detector.uid}`;
  await expect(state).toContainText(`Current model: from the network, ${named}`, { timeout: 120_000 });
  await expect(state).toContainText('switched to the network model');
  await expect(state).not.toContainText('Last error');
  console.log(`switched: ${await state.textContent()}`);
  await options.close();
  const urls = bundleRequests().map((r) => r.url);
  expect(urls.slice(1)).toEqual([detector.url + 'manifest.json', detector.url + 'model.onnx']);
  expect(urls.some((u) => u.startsWith(net.published.tiny.url))).toBe(false);
  expect(bundleRequests().every((r) => r.headers.cookie === undefined && r.headers.authorization === undefined)).toBe(true);
  // Re-checked on a schedule while on.
  expect(await browser!.worker.evaluate(() => chrome.alarms.get('veracity-network-check'))).toMatchObject({
    periodInMinutes: 60,
  });

  const line = `network model veracity-detector 1.7.0 · miner uid ${detector.uid} · incentive ${incentive[detector.uid]!.toFixed(2)}`;
  const { page, badge } = await scoredBadge(2);
  expect(badge.text).toContain(line);
  // "Report a wrong verdict": the receipt names the network model (its miner, incentive and bundle id).
  const button = badge.reportButton!;
  await page.mouse.move(badge.rect.x + badge.rect.width / 2, badge.tip!.y + 4);
  await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
  await expect.poll(async () => (await badges(page))[0]?.text ?? '').toContain('Saved on this device (1 report)');
  const tab = await browser!.worker.evaluate(async (u) => (await chrome.tabs.query({})).find((t) => t.url === u)?.id, page.url());
  const popup = await open(`chrome-extension://${browser!.extensionId}/src/popup/index.html?tab=${tab}`);
  await expect(popup.getByTestId('model')).toContainText(`Model: ${line}`);

  const [download] = await Promise.all([popup.waitForEvent('download'), popup.getByTestId('export-reports').click()]);
  const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { reports: Array<{ bundle: unknown }> };
  expect(exported.reports[0]!.bundle).toEqual({
    id: 'veracity-detector',
    version: '1.7.0',
    sha256: (JSON.parse(readFileSync(join(detector.dir, 'manifest.json'), 'utf8')) as { model: { sha256: string } }).model.sha256,
    network: {
      uid: detector.uid,
      incentive: incentive[detector.uid],
      // The extension names hotkeys by their public key (hex), the chain's storage key, not by SS58 address.
      hotkey: '0x' + Buffer.from(new Keyring().decodeAddress(detector.hotkey)).toString('hex'),
      bundle: detector.sha256,
    },
  });
  await popup.close();
  await page.close();
});

test('privacy with the network model on: only the test page, the chain and the bundle server were contacted', async () => {
  await browser!.close();
  browser = null;
  const allowed = new Set([new URL(pages.url).host, new URL(net.served.url).host]);
  const chain = new URL(relay.endpoint).host;
  const ours = proxy.log.filter((r) => (r.method === 'CONNECT' ? r.url === chain : allowed.has(new URL(r.url).host)));
  const elsewhere = proxy.log.filter((r) => !ours.includes(r));
  for (const r of ours) {
    if (r.method === 'CONNECT') continue;
    expect(r.method, r.url).toBe('GET');
    expect(r.bodyBytes, r.url).toBe(0);
    expect(new URL(r.url).pathname, r.url).toMatch(
      /^\/(page-\d\.html|media\/[\w.-]+|favicon\.ico|detector\/(manifest\.json|model\.onnx))$/,
    );
  }
  // The chain's WebSocket goes through a CONNECT tunnel; the relay behind it saw only the three read methods.
  expect(ours.filter((r) => r.method === 'CONNECT').length).toBeGreaterThan(0);
  expect(new Set(relay.methods)).toEqual(READ_METHODS);
  expectOnlyChromiumProbes(
    elsewhere,
    images.map((i) => i.name),
  );
  console.log(
    `requests: ${ours.length} to the page, chain and bundle server; relay methods ${JSON.stringify([...new Set(relay.methods)])}; ${elsewhere.length} Chromium service probes`,
  );
});
