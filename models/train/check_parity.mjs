#!/usr/bin/env node
// Runs a bundle's parity.json cases through onnxruntime-web (WASM, 1 thread) and prints the max abs difference
// between softmax(logits / T) and the PyTorch probabilities. Usage:
//   node models/train/check_parity.mjs ORT_WEB_PKG_DIR BUNDLE_DIR
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const [pkgDir, bundleDir] = process.argv.slice(2);
const require = createRequire(path.resolve(pkgDir, 'package.json'));
const ort = require(path.resolve(pkgDir));
ort.env.wasm.numThreads = 1;
const manifest = JSON.parse(fs.readFileSync(path.join(bundleDir, 'manifest.json'), 'utf8'));
const parity = JSON.parse(fs.readFileSync(path.join(bundleDir, 'parity.json'), 'utf8'));
const session = await ort.InferenceSession.create(fs.readFileSync(path.join(bundleDir, manifest.model.file)));
const s = parity.size;
const T = manifest.calibration.temperature;
let maxDiff = 0;
// one batch with every case (exercises the dynamic batch axis)
const all = new Uint8Array(parity.cases.length * 3 * s * s);
parity.cases.forEach((c, i) => all.set(Buffer.from(c.pixels_b64, 'base64'), i * 3 * s * s));
const out = await session.run({ [manifest.input.name]: new ort.Tensor('uint8', all, [parity.cases.length, 3, s, s]) });
const logits = out[manifest.input.output].data;
parity.cases.forEach((c, i) => {
  const z = [0, 1, 2].map((k) => logits[i * 3 + k] / T);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / sum);
  p.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - c.probs[k]))));
});
console.log(JSON.stringify({ cases: parity.cases.length, temperature: T, maxAbsDiffProbs: maxDiff }));
process.exit(maxDiff <= 1e-4 ? 0 : 1);
