#!/usr/bin/env node
// Latency of a bundle's model.onnx under onnxruntime-web (WASM backend, single thread, SIMD) in Node: the same
// engine the browser runs. Usage: node models/train/bench_ort.mjs ORT_WEB_PKG_DIR MODEL.onnx SIZE [RUNS]
// (ORT_WEB_PKG_DIR e.g. /tmp/train-deps/node_modules/onnxruntime-web). Prints p50/p90/mean ms at batch 1.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const [pkgDir, modelPath, sizeArg, runsArg] = process.argv.slice(2);
const require = createRequire(path.resolve(pkgDir, 'package.json'));
const ort = require(path.resolve(pkgDir));
ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
const size = parseInt(sizeArg, 10);
const runs = parseInt(runsArg || '40', 10);
const session = await ort.InferenceSession.create(fs.readFileSync(modelPath), { executionProviders: ['wasm'] });
const data = new Uint8Array(3 * size * size);
for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
const feeds = { pixels: new ort.Tensor('uint8', data, [1, 3, size, size]) };
for (let i = 0; i < 5; i++) await session.run(feeds);
const t = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await session.run(feeds);
  t.push(performance.now() - t0);
}
t.sort((a, b) => a - b);
const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
const mean = t.reduce((a, b) => a + b, 0) / t.length;
console.log(
  JSON.stringify({
    model: modelPath,
    size,
    runs,
    min: +t[0].toFixed(2),
    p50: +q(0.5).toFixed(2),
    p90: +q(0.9).toFixed(2),
    mean: +mean.toFixed(2),
    bytes: fs.statSync(modelPath).size,
  }),
);
