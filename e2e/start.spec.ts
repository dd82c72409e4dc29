// Issue 7: `npm start` on a clean checkout brings up the whole local subnet, the status page lists a scored miner,
// weights land on the local chain, and Ctrl-C (SIGINT to the process group, as a terminal sends it) leaves nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { expect, test } from '@playwright/test';
import { readWeights } from '@veracity/validator/chain';
import { type Checkout, cleanCheckout, processesIn, REPO_ROOT } from './support/checkout.js';

const SHARED = resolve(REPO_ROOT, '../shared');
const DATASET = process.env.VERACITY_DATASET ?? join(SHARED, 'datasets');
const SPEC = process.env.VERACITY_CHAIN_SPEC ?? join(SHARED, 'chain/aura-dev-raw-293.json');

interface Run {
  child: ChildProcess;
  out: () => string;
  /** Exit code, or the signal that ended npm (npm itself dies of the SIGINT a terminal sends the whole group). */
  exited: Promise<number | string | null>;
}

function npmStart(cwd: string, args: string[], env: Record<string, string>): Run {
  let out = '';
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd,
    detached: true, // its own process group, like a terminal job, so SIGINT reaches npm, tsx and node together
    env: {
      ...process.env,
      ...env,
      VERACITY_DATASET: env.VERACITY_DATASET ?? '',
      VERACITY_CHAIN_SPEC: env.VERACITY_CHAIN_SPEC ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string | null>((ok) => child.on('exit', (code, signal) => ok(code ?? signal)));
  return { child, out: () => out, exited };
}

async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms: number,
  log: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output so far:\n${log()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test.describe('npm start', () => {
  let checkout: Checkout;
  test.beforeAll(() => {
    checkout = cleanCheckout();
  });
  test.afterAll(() => checkout?.remove());

  test('names every missing input and starts nothing', async () => {
    // The copy lives in a temp folder, so the default ../shared inputs are absent: exactly a newcomer's first run.
    const run = npmStart(checkout.dir, ['--no-build'], {});
    expect(await run.exited).toBe(2);
    expect(run.out()).toContain('pieces are missing');
    expect(run.out()).toMatch(/dataset: no manifest\.csv in .*shared\/datasets/);
    expect(run.out()).toMatch(/chain spec: no raw chain spec at .*aura-dev-raw-293\.json/);
    expect(run.out()).toContain('fix: point VERACITY_DATASET');
    expect(processesIn(checkout.dir)).toEqual([]);
  });

  test('brings up chain, validator, miners and extension; weights land on chain; Ctrl-C leaves nothing', async ({ page }) => {
    test.setTimeout(540_000);
    const run = npmStart(
      checkout.dir,
      ['--chain-port', '0', '--validator-port', '0', '--miner-port', '0', '--bundle-port', '0'],
      {
        VERACITY_DATASET: DATASET,
        VERACITY_CHAIN_SPEC: SPEC,
        VERACITY_WEIGHTS_INTERVAL_MS: '10000',
        // A fixed challenge stream keeps the reference miner's score reproducible (a fresh secret one otherwise).
        VERACITY_SEED: 'subnet-test',
      },
    );
    let api: ApiPromise | undefined;
    try {
      const banner = await waitFor(
        'the printed URLs',
        () => (run.out().includes('Veracity local subnet is up') && run.out().includes('Next:') ? run.out() : undefined),
        360_000,
        run.out,
      );
      for (let i = 1; i <= 5; i++) expect(banner).toMatch(new RegExp(`\\[${i}/5\\] .*: (?!FAILED)`));
      const field = (name: string) => new RegExp(`^  ${name} +(\\S+)`, 'm').exec(banner)?.[1];
      const chainUrl = field('chain')!;
      const statusUrl = field('status page')!;
      const minerUrl = field('web miner')!;
      const extensionDir = field('extension')!;
      const netuid = Number(/netuid (\d+)/.exec(banner)![1]);
      const validatorUid = Number(/validator uid (\d+)/.exec(banner)![1]);
      const nodeMinerUid = Number(/node miner +\/\/Miner1 \(uid (\d+)\)/.exec(banner)![1]);
      // The model channel: both Node miners published their bundle (served over HTTP) and answer with it.
      expect(banner).toMatch(
        /node miner +\/\/Miner1 \(uid \d+\) answering with veracity-detector [\d.]+, published at http:\/\/127\.0\.0\.1:\d+\/detector\//,
      );
      expect(banner).toMatch(
        /node miner +\/\/Miner2 \(uid \d+\) answering with veracity-fixture-tiny 0\.0\.1, published at http:\/\/127\.0\.0\.1:\d+\/tiny\//,
      );
      expect(existsSync(join(extensionDir, 'manifest.json'))).toBe(true);
      expect(extensionDir.startsWith(checkout.dir)).toBe(true);

      // A second npm start on the same state folder is refused before it starts a chain, and says what to do.
      const second = npmStart(checkout.dir, ['--no-build', '--chain-port', '0', '--validator-port', '0', '--miner-port', '0'], {
        VERACITY_DATASET: DATASET,
        VERACITY_CHAIN_SPEC: SPEC,
      });
      expect(await second.exited, second.out()).toBe(2);
      expect(second.out()).toMatch(/npm start is already running for \.veracity \(pid \d+ since/);
      expect(second.out()).toContain(`its status page is ${statusUrl}`);
      expect(second.out()).not.toMatch(/\[1\/5\]|EADDRINUSE|\n\s+at /);

      // The web miner is served with the config that points it at this validator and chain.
      const config = (await (await fetch(new URL('config.json', minerUrl))).json()) as { validators: string[]; chain: string };
      expect(config.chain).toBe(chainUrl);
      expect((await fetch(minerUrl)).status).toBe(200);
      expect((await fetch(new URL('metrics', statusUrl))).status).toBe(200);

      // The status page lists the reference miner with a score.
      await page.goto(statusUrl);
      const row = page.locator('#miners tbody tr').first();
      await expect(row).toBeVisible({ timeout: 60_000 });
      await expect(row.locator('td').nth(1)).toHaveText(String(nodeMinerUid));
      await expect
        .poll(async () => Number(await row.locator('td.score').textContent()), { timeout: 120_000, message: 'a positive score' })
        .toBeGreaterThan(0);

      // Weights set on the local chain by the validator, for the scored miner.
      api = await ApiPromise.create({ provider: new WsProvider(chainUrl), noInitWarn: true });
      const weights = await waitFor(
        'weights on chain',
        async () => {
          const w = await readWeights(api!, netuid, validatorUid);
          return (w.get(nodeMinerUid) ?? 0) > 0 ? w : undefined;
        },
        120_000,
        run.out,
      );
      expect(weights.get(nodeMinerUid)).toBe(65535);
      // The leaderboard: the detector's miner first, both bundles published and declared.
      const status = (await (await fetch(new URL('api/status', statusUrl))).json()) as {
        bundles: { leaderboard: Array<{ uid: number; state: string; version: string | null }> };
      };
      expect(status.bundles.leaderboard[0]).toMatchObject({ uid: nodeMinerUid, state: 'published' });
      expect(status.bundles.leaderboard.filter((r) => r.state === 'published').map((r) => r.version)).toContain('0.0.1');
      await expect(row.locator('td.bundle-state')).toHaveText('published');
      // After "up" the terminal is not silent: one heartbeat line per weights cycle, with the weights it set.
      await waitFor(
        'a heartbeat line with weights set',
        () =>
          new RegExp(`round \\d+ · \\d+ miners? online · weights set \\(set at block \\d+\\): uid ${nodeMinerUid} 1\\.000`).exec(
            run.out(),
          ) ?? undefined,
        60_000,
        run.out,
      );

      // The status page: the title first (no stray "Loading…"), weights as shares under a named column, the chart
      // with a time axis and a legend naming the miner by uid and hotkey; both servers answer /favicon.ico.
      await expect(page.locator('#weights-legend')).toContainText(new RegExp(`uid ${nodeMinerUid} · \\w{6}…\\w{6}`), {
        timeout: 30_000,
      });
      await expect(page.locator('svg .time-axis text').first()).toHaveText(/^\d\d:\d\d/);
      expect((await page.locator('body').innerText()).trimStart()).toMatch(/^Veracity validator/);
      await expect(page.locator('#miners thead')).toContainText('weight (share)');
      await expect(row.locator('td.weight')).toHaveText('1.000');
      for (const base of [statusUrl, minerUrl]) {
        const icon = await fetch(new URL('favicon.ico', base));
        expect(icon.status, base).toBe(200);
        expect(icon.headers.get('content-type')).toBe('image/x-icon');
      }
    } finally {
      await api?.disconnect();
      process.kill(-run.child.pid!, 'SIGINT');
    }
    const code = await Promise.race([run.exited, new Promise<'hung'>((ok) => setTimeout(() => ok('hung'), 30_000))]);
    expect([0, 'SIGINT'], run.out()).toContain(code);
    // npm dies of the SIGINT at once; our node process (same group, same stdout) is still closing the chain and the
    // validator. Give it the time a user would, then nothing of this checkout may be running.
    const left = await waitFor(
      'every process to exit',
      () => (processesIn(checkout.dir).length === 0 ? [] : undefined),
      30_000,
      () => `${processesIn(checkout.dir).join('\n')}\n${run.out()}`,
    );
    expect(left).toEqual([]);
    // What our process said on the way out: it closed every part itself, none had to be abandoned.
    expect(run.out()).toContain('stopped.');
    expect(run.out()).not.toContain('exiting anyway');
  });
});
