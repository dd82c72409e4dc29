// The extension following the network (issue 25 item 3): a real local chain (the subtensor runtime under chopsticks),
// two miners publishing bundles (the untrained tiny fixture and the shipped detector) served over HTTP, //Alice's
// weights and an epoch ranking the shipped detector first. With the network model off nothing is read from the chain;
// turned on, a tampered download (the server sends another manifest than the one committed) is refused and the
// extension keeps scoring with its bundle; the genuine bundle is verified, self-tested and switched to, and the badge
// details and the popup name it. A recording proxy in front of the browser shows that only the test page, the chain
// and the bundle server were contacted, and a relay in front of the chain that only read methods were called.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
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
  type TestFile,
} from './support/extension.js';
import { DATASET_DIR } from './support/images.js';
import { BUNDLE_DIRS, type PublishedSubnet, subnetWithTwoBundles } from './support/network.js';
import { type Served, serveStatic } from './support/static-server.js';

test.describe.configure({ mode: 'serial' });
test.setTimeout(300_000);

let net: PublishedSubnet;
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
  [net] = await Promise.all([subnetWithTwoBundles(), buildExtension()]);
  const chain = new URL(net.relay.endpoint).host;
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
  await net?.close();
  for (const d of [profile, dir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('the chain ranks the shipped detector first; with the network model off (the default) nothing is read', async () => {
  const { tiny, shipped } = net.bundles;
  console.log(
    `incentive: tiny fixture uid ${tiny.uid} ${net.incentive[tiny.uid]!.toFixed(3)}, shipped uid ${shipped.uid} ${net.incentive[shipped.uid]!.toFixed(3)}`,
  );
  expect(net.incentive[shipped.uid]!).toBeGreaterThan(net.incentive[tiny.uid]!);
  expect(net.incentive[tiny.uid]!).toBeGreaterThan(0);

  const { page, badge } = await scoredBadge(0);
  expect(badge.text).toContain('bundled model veracity-detector 1.7.0');
  await page.close();
  const options = await openOptions();
  await expect(options.getByTestId('network-model')).not.toBeChecked();
  await expect(options.getByTestId('network-state')).toContainText('Network model is off: nothing is read from any chain.');
  await options.close();
  expect(net.relay.methods).toEqual([]);
  expect(net.server.log).toEqual([]);
  expect(await browser!.worker.evaluate(() => chrome.alarms.getAll())).toEqual([]);
});

test('a tampered download is refused (E_BUNDLE_DIGEST): the extension keeps its bundle and keeps scoring', async () => {
  const real = JSON.parse(readFileSync(BUNDLE_DIRS.shipped + 'manifest.json', 'utf8')) as Record<string, unknown>;
  // Another manifest than the committed one: same model file, a different calibration.
  net.server.tamper(
    '/shipped/manifest.json',
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
  await options.getByTestId('chain-endpoint').fill(net.relay.endpoint);
  await options.getByTestId('save-chain').click();
  await expect(state).toContainText('Last error: E_BUNDLE_DIGEST', { timeout: 60_000 });
  await expect(state).toContainText('Current model: bundled with the extension');
  await expect(state).toContainText(/Last check: just now \(failed\)/);
  console.log(`refused: ${await state.textContent()}`);
  // Only the manifest was fetched: the model behind a wrong manifest is never downloaded.
  expect(net.server.log.map((r) => r.path)).toEqual(['/shipped/manifest.json']);
  expect(net.server.log.every((r) => r.headers.cookie === undefined && r.headers.authorization === undefined)).toBe(true);
  expect(net.relay.methods.length).toBeGreaterThan(0);
  expect(net.relay.methods.filter((m) => !READ_METHODS.has(m))).toEqual([]);
  await options.close();

  const { page, badge } = await scoredBadge(1);
  expect(badge.text).toContain('bundled model veracity-detector 1.7.0');
  await page.close();
});

test('the genuine bundle is verified, self-tested and switched to; badge details and the popup name it', async () => {
  const { shipped } = net.bundles;
  net.server.tamper('/shipped/manifest.json', null);
  const options = await openOptions();
  await expect(options.getByTestId('check-now')).toBeEnabled();
  await options.getByTestId('check-now').click();
  const state = options.getByTestId('network-state');
  const named = `veracity-detector 1.7.0, miner uid ${shipped.uid}`;
  await expect(state).toContainText(`Current model: from the network, ${named}`, { timeout: 120_000 });
  await expect(state).toContainText('switched to the network model');
  await expect(state).not.toContainText('Last error');
  console.log(`switched: ${await state.textContent()}`);
  await options.close();
  const paths = net.server.log.map((r) => r.path);
  expect(paths.slice(1)).toEqual(['/shipped/manifest.json', '/shipped/model.onnx']);
  expect(paths.some((p) => p.startsWith('/tiny/'))).toBe(false);
  expect(net.server.log.every((r) => r.headers.cookie === undefined && r.headers.authorization === undefined)).toBe(true);
  // Re-checked on a schedule while on.
  expect(await browser!.worker.evaluate(() => chrome.alarms.get('veracity-network-check'))).toMatchObject({
    periodInMinutes: 60,
  });

  const line = `network model veracity-detector 1.7.0 · miner uid ${shipped.uid} · incentive ${net.incentive[shipped.uid]!.toFixed(2)}`;
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
    sha256: (JSON.parse(readFileSync(BUNDLE_DIRS.shipped + 'manifest.json', 'utf8')) as { model: { sha256: string } }).model
      .sha256,
    network: { uid: shipped.uid, incentive: net.incentive[shipped.uid], hotkey: shipped.hotkey, bundle: shipped.sha256 },
  });
  await popup.close();
  await page.close();
});

test('privacy with the network model on: only the test page, the chain and the bundle server were contacted', async () => {
  await browser!.close();
  browser = null;
  const allowed = new Set([new URL(pages.url).host, new URL(net.server.url).host]);
  const chain = new URL(net.relay.endpoint).host;
  const ours = proxy.log.filter((r) => (r.method === 'CONNECT' ? r.url === chain : allowed.has(new URL(r.url).host)));
  const elsewhere = proxy.log.filter((r) => !ours.includes(r));
  for (const r of ours) {
    if (r.method === 'CONNECT') continue;
    expect(r.method, r.url).toBe('GET');
    expect(r.bodyBytes, r.url).toBe(0);
    expect(new URL(r.url).pathname, r.url).toMatch(
      /^\/(page-\d\.html|media\/[\w.-]+|favicon\.ico|shipped\/(manifest\.json|model\.onnx))$/,
    );
  }
  // The chain's WebSocket goes through a CONNECT tunnel; the relay behind it saw only the three read methods.
  expect(ours.filter((r) => r.method === 'CONNECT').length).toBeGreaterThan(0);
  expect(new Set(net.relay.methods)).toEqual(READ_METHODS);
  expectOnlyChromiumProbes(elsewhere, [
    'probabilities',
    'veracity',
    '127.0.0.1',
    'synthetic',
    'data:image',
    ...images.map((i) => i.name),
  ]);
  console.log(
    `requests: ${ours.length} to the page, chain and bundle server; relay methods ${JSON.stringify([...new Set(net.relay.methods)])}; ${elsewhere.length} Chromium service probes`,
  );
});
