/**
 * Runtime latency per backend: onnxruntime-node, and in Chromium (a Web Worker, as the web miner runs it) WASM with
 * one thread, WASM with threads (cross-origin isolated page) and WebGPU (SwiftShader's CPU adapter unless a GPU
 * exists). Prints JSON and writes bench/results/runtime.json.
 *
 *   npm run bench -- [--bundle DIR] [--iterations N] [--out FILE] [--only NAME,...]
 *
 * --only keeps the named cases (node-1-thread, node, wasm-1-thread, wasm-threads, webgpu), e.g. to time one
 * backend on a machine kept quiet for the length of that case only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { decodeImageNode, loadNodeDetector, percentile } from '@veracity/models/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/browser.js';
import { buildHarness, DETECTOR_BUNDLE, FIXTURE_BUNDLE } from '../e2e/support/harness.js';
import { syntheticPhoto } from '../e2e/support/images.js';
import { serveStatic } from '../e2e/support/static-server.js';

const { values: args } = parseArgs({
  options: {
    bundle: { type: 'string' },
    iterations: { type: 'string', default: '100' },
    out: { type: 'string', default: 'bench/results/runtime.json' },
    only: { type: 'string' },
  },
});
const bundleDir = resolve(args.bundle ?? (existsSync(`${DETECTOR_BUNDLE}manifest.json`) ? DETECTOR_BUNDLE : FIXTURE_BUNDLE));
const iterations = Number(args.iterations);
const only = args.only ? new Set(args.only.split(',')) : null;
const wanted = (name: string) => !only || only.has(name);
const stats = (ms: number[]) => ({ p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), n: ms.length });
const round = (v: number) => Math.round(v * 1000) / 1000;
const log = (s: string) => process.stderr.write(`${s}\n`);

const image = await syntheticPhoto(640, 480);
const results: Record<string, unknown> = {};

log(`bundle ${relative(process.cwd(), bundleDir)}; node-cpu ...`);
for (const threads of [1, 0]) {
  if (!wanted(threads === 1 ? 'node-1-thread' : 'node')) continue;
  const node = await loadNodeDetector(bundleDir, { threads });
  const decoded = await decodeImageNode(image);
  const tensor = node.tensorFor(decoded);
  const infer: number[] = [];
  for (let i = 0; i < iterations + 10; i++) {
    const t0 = performance.now();
    await node.classifyTensor(tensor, tensor.length / (3 * node.size * node.size));
    if (i >= 10) infer.push(performance.now() - t0);
  }
  const full: number[] = [];
  for (let i = 0; i < Math.min(iterations, 50); i++) {
    const t0 = performance.now();
    await node.classifyImage(await decodeImageNode(image));
    full.push(performance.now() - t0);
  }
  results[threads === 1 ? 'node-1-thread' : 'node'] = {
    infer_ms: stats(infer),
    decode_classify_ms: stats(full),
    threads: threads || 'auto',
  };
  await node.dispose();
}

log('building the harness ...');
const dist = await buildHarness();
const plain = await serveStatic({ '/': dist, '/bundle/': bundleDir });
const isolated = await serveStatic({ '/': dist, '/bundle/': bundleDir }, { isolate: true });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const runs = [
  { name: 'wasm-1-thread', url: plain.url, backends: ['wasm'], threads: 1, iterations },
  { name: 'wasm-threads', url: isolated.url, backends: ['wasm'], threads: Math.min(4, cpus().length), iterations },
  // SwiftShader is ~100x slower than a GPU: fewer iterations keep the run short; the figure is for correctness only.
  { name: 'webgpu', url: plain.url, backends: ['webgpu'], threads: 1, iterations: Math.max(5, Math.floor(iterations / 10)) },
] as const;
for (const run of runs) {
  if (!wanted(run.name)) continue;
  log(`${run.name} ...`);
  const page = await browser.newPage();
  await page.goto(run.url);
  await page.waitForFunction(() => 'harness' in window);
  const t0 = Date.now();
  const loaded = await page.evaluate(([b, t]) => window.harness.load('b', '/bundle/', [...b], t), [
    run.backends,
    run.threads,
  ] as const);
  if (!loaded.ok) {
    results[run.name] = { error: loaded.message };
    await page.close();
    continue;
  }
  const loadMs = Date.now() - t0;
  const timed = await page.evaluate(([d, n]) => window.harness.time('b', d, 'image/png', n, 3), [
    image.toString('base64'),
    run.iterations,
  ] as const);
  const isolatedPage = await page.evaluate(() => window.crossOriginIsolated);
  const backend = loaded.value.backend;
  const name = run.name === 'webgpu' && backend.adapter?.isFallbackAdapter ? 'webgpu-swiftshader' : run.name;
  results[name] = timed.ok
    ? {
        infer_ms: stats(timed.value.infer),
        decode_classify_ms: stats(timed.value.full),
        load_ms: loadMs,
        threads: backend.threads,
        crossOriginIsolated: isolatedPage,
        ...(backend.adapter ? { adapter: backend.adapter } : {}),
      }
    : { error: timed.message };
  await page.close();
}
await browser.close();
await plain.close();
await isolated.close();

const chromiumVersion = (() => {
  try {
    return execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const report = {
  benchmark: 'runtime-latency',
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
    chromium: chromiumVersion,
  },
  bundle: { dir: relative(process.cwd(), bundleDir) },
  image:
    '640x480 synthetic PNG; infer_ms = one pre-processed image through the session, decode_classify_ms = bytes to probabilities',
  results,
};
mkdirSync(dirname(resolve(args.out)), { recursive: true });
writeFileSync(resolve(args.out), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
