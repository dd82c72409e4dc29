/**
 * Web miner latency: challenge arrival to answer sent, measured by the page itself (the p50/p95 it shows), per
 * backend, with the built page in Chromium mining against a real validator on loopback (image challenges from
 * ../shared/datasets, no chain: the validator admits any hotkey). Prints JSON and writes bench/results/web-miner.json.
 *
 *   npx tsx bench/web-miner.ts [--wasm N] [--webgpu N] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/browser.js';
import { serveStatic } from '../e2e/support/static-server.js';
import { buildWebMiner, injectWallet, minerUrl, recordFrames, startValidator } from '../e2e/support/web-miner.js';

const { values: args } = parseArgs({
  options: {
    wasm: { type: 'string', default: '60' },
    webgpu: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/results/web-miner.json' },
  },
});
const log = (s: string) => process.stderr.write(`${s}\n`);

const dist = await buildWebMiner();
const served = await serveStatic({ '/': dist }, { isolate: true });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const results: Record<string, unknown> = {};

try {
  for (const [backend, n] of [
    ['wasm', Number(args.wasm)],
    ['webgpu', Number(args.webgpu)],
  ] as const) {
    if (!(n > 0)) continue;
    // Image-only challenges with a long budget, so SwiftShader's seconds per image are measured, not dropped.
    const validator = await startValidator(null, { seed: `bench-${backend}`, timeoutMs: 60_000, videoShare: 0 });
    const page = await (await browser.newContext()).newPage();
    try {
      await injectWallet(page, '//Bob');
      const rec = recordFrames(page);
      // No chain here: point the page at a closed port (it says so on screen) and let it mine without checking the
      // validator's permit and stake, which only a chain could tell.
      await page.goto(
        minerUrl(served.url, {
          validators: [validator.url],
          chain: 'ws://127.0.0.1:9/',
          netuid: 2,
          backend,
          checkValidators: false,
        }),
      );
      const t0 = Date.now();
      await page.getByTestId('backend-name').waitFor({ timeout: 180_000 });
      const loadMs = Date.now() - t0;
      const backendText = (await page.getByTestId('backend').textContent()) ?? '';
      await page.getByTestId('start').click();
      log(`${backend}: model ready in ${loadMs} ms; mining ${n} challenges …`);
      const t1 = Date.now();
      while (rec.answers.size < n) {
        if (Date.now() - t1 > 540_000) throw new Error(`${backend}: only ${rec.answers.size} answers in 9 minutes`);
        await page.waitForTimeout(500);
      }
      await page.getByTestId('stop').click();
      const ms = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-ms'));
      const name = backend === 'webgpu' && /software fallback/.test(backendText) ? 'webgpu-swiftshader' : backend;
      results[name] = {
        challenge_to_answer_ms: {
          p50: await ms('p50'),
          p95: await ms('p95'),
          n: Number(await page.getByTestId('answered').textContent()),
        },
        model_load_ms: loadMs,
        backend: backendText.trim(),
        wall_s: Math.round((Date.now() - t1) / 100) / 10,
      };
      log(`${name}: ${JSON.stringify(results[name])}`);
    } finally {
      await page.context().close();
      await validator.close();
    }
  }
} finally {
  await browser.close();
  await served.close();
}

const report = {
  bench: 'web-miner',
  measured: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
  note: 'latency from challenge arrival to answer sent, in the page (decode + inference in the worker); image challenges, one miner, loopback validator',
  results,
};
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
