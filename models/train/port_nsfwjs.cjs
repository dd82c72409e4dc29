#!/usr/bin/env node
/*
 * Dumps the weights of the nsfwjs MobileNetV2 (Keras, MIT licence) so models/train/mobilenet_port.py can load them
 * into a PyTorch MobileNetV2 as the pretrained start of the detector.
 *
 * Usage:
 *   node models/train/port_nsfwjs.cjs NSFWJS_PKG_DIR OUT_DIR [CHECK_INPUT.bin N S]
 *
 *   NSFWJS_PKG_DIR  path of the installed nsfwjs package (e.g. /tmp/train-deps/node_modules/nsfwjs); @tensorflow/tfjs
 *                   must be resolvable from it (install both side by side: npm install nsfwjs @tensorflow/tfjs).
 *   OUT_DIR         receives nsfwjs_weights.bin (float32, little endian, concatenated) and nsfwjs_weights.json
 *                   ([{name, shape, offset, length}] in Keras names, Keras layouts: conv HWIO, depthwise HW1C).
 *   CHECK_INPUT.bin optional float32 NHWC [N,S,S,3] tensor already scaled like nsfwjs (pixels / 255). The original
 *                   model is run on it under tfjs and OUT_DIR/nsfwjs_check_features.bin (out_relu, global-average
 *                   pooled, [N,1280]) and OUT_DIR/nsfwjs_check_probs.bin ([N,5]) are written for the parity check.
 */
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [pkgDir, outDir, checkInput, nArg, sArg] = process.argv.slice(2);
  if (!pkgDir || !outDir) {
    console.error('usage: node port_nsfwjs.cjs NSFWJS_PKG_DIR OUT_DIR [CHECK_INPUT.bin N S]');
    process.exit(2);
  }
  const absPkg = path.resolve(pkgDir);
  const requireFromPkg = (m) => require(require.resolve(m, { paths: [absPkg] }));
  const tf = requireFromPkg('@tensorflow/tfjs');
  const modelJson = require(path.join(absPkg, 'dist/models/mobilenet_v2/model.min.js'));
  const shard = require(path.join(absPkg, 'dist/models/mobilenet_v2/group1-shard1of1.min.js'));
  const pkgVersion = JSON.parse(fs.readFileSync(path.join(absPkg, 'package.json'), 'utf8')).version;

  // Same decoding as nsfwjs's JSONHandler: each shard is a base64 string of the (uint8-quantised) weight bytes.
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) {
      const b64 = p === 'group1-shard1of1' ? shard : null;
      if (!b64) throw new Error(`missing shard ${p}`);
      buffers.push(new Uint8Array(Buffer.from(b64, 'base64')));
    }
    weightSpecs.push(...group.weights);
  }
  const total = buffers.reduce((a, b) => a + b.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.length;
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: weightData.buffer }),
  );

  // Dump every weight as tfjs dequantised it (float32).
  fs.mkdirSync(outDir, { recursive: true });
  const index = [];
  const chunks = [];
  let offset = 0;
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const data = w.read().dataSync();
      const f32 = new Float32Array(data);
      index.push({ name: w.originalName || w.name, shape: w.shape, offset, length: f32.length });
      chunks.push(Buffer.from(f32.buffer));
      offset += f32.length * 4;
    }
  }
  fs.writeFileSync(path.join(outDir, 'nsfwjs_weights.bin'), Buffer.concat(chunks));
  fs.writeFileSync(
    path.join(outDir, 'nsfwjs_weights.json'),
    JSON.stringify({ source: `nsfwjs@${pkgVersion} MobileNetV2`, tfjs: tf.version.tfjs, weights: index }, null, 1),
  );
  console.log(`dumped ${index.length} tensors (${offset} bytes) from nsfwjs@${pkgVersion} with tfjs ${tf.version.tfjs}`);

  if (checkInput) {
    const n = parseInt(nArg, 10);
    const s = parseInt(sArg, 10);
    const raw = fs.readFileSync(checkInput);
    const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, n * s * s * 3), [n, s, s, 3]);
    const feat = model.getLayer('out_relu').output;
    const probe = tf.model({ inputs: model.inputs, outputs: [feat, model.outputs[0]] });
    const [f, p] = probe.predict(x);
    const pooled = f.mean([1, 2]);
    fs.writeFileSync(path.join(outDir, 'nsfwjs_check_features.bin'), Buffer.from(new Float32Array(pooled.dataSync()).buffer));
    fs.writeFileSync(path.join(outDir, 'nsfwjs_check_probs.bin'), Buffer.from(new Float32Array(p.dataSync()).buffer));
    console.log(`ran the original on ${n} x ${s}px check inputs`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
