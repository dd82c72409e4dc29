#!/usr/bin/env node
/*
 * Runs an @upscalerjs ESRGAN layers-model under @tensorflow/tfjs (pure-JS CPU backend) on a float32 NHWC input, as
 * the reference for models/train/esrgan_port.py.
 *
 * Usage: node models/train/esrgan_tfjs.cjs MODEL_DIR INPUT.bin N S OUTPUT.bin
 *   MODEL_DIR  e.g. /tmp/train-deps/node_modules/@upscalerjs/esrgan-slim/models/x4 (model.json + shard); tfjs must be
 *              resolvable from it (install side by side in /tmp/train-deps).
 *   INPUT.bin  float32 little-endian [N,S,S,3] in the graph's own pixel range (0..255 for RDN, 0..1 for RRDN);
 *              OUTPUT.bin gets the raw model output [N,sS,sS,3].
 */
'use strict';
const fs = require('fs');
const path = require('path');

/**
 * The RRDN graphs (esrgan-legacy models/gans) use two custom Keras layers that upscalerjs registers in its model
 * definition (packages/shared/src/esrgan/esrgan.ts): MultiplyBeta (x * 0.2) and PixelShuffleNx
 * (tf.depthToSpace, NHWC). Same semantics here, so the reference is what upscalerjs runs.
 */
function registerRrdnLayers(tf) {
  const input = (x) => (Array.isArray(x) ? x[0] : x);
  class MultiplyBeta extends tf.layers.Layer {
    constructor(config) {
      super(config);
      this.beta = config.beta ?? 0.2;
    }
    call(inputs) {
      return tf.mul(input(inputs), this.beta);
    }
    static className = 'MultiplyBeta';
  }
  tf.serialization.registerClass(MultiplyBeta);
  for (const scale of [2, 3, 4, 8]) {
    class PixelShuffle extends tf.layers.Layer {
      constructor(config) {
        super(config);
        this.scale = scale;
      }
      computeOutputShape(s) {
        return [s[0], s[1] && s[1] * scale, s[2] && s[2] * scale, s[3] / (scale * scale)];
      }
      call(inputs) {
        return tf.depthToSpace(input(inputs), this.scale, 'NHWC');
      }
      static className = `PixelShuffle${scale}x`;
    }
    tf.serialization.registerClass(PixelShuffle);
  }
}

async function main() {
  const [modelDir, input, nArg, sArg, output] = process.argv.slice(2);
  if (!output) {
    console.error('usage: node esrgan_tfjs.cjs MODEL_DIR INPUT.bin N S OUTPUT.bin');
    process.exit(2);
  }
  const absDir = path.resolve(modelDir);
  const tf = require(require.resolve('@tensorflow/tfjs', { paths: [absDir] }));
  registerRrdnLayers(tf);
  const mj = JSON.parse(fs.readFileSync(path.join(absDir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(absDir, p)));
    weightSpecs.push(...g.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs, weightData }));
  const n = parseInt(nArg, 10);
  const s = parseInt(sArg, 10);
  const raw = fs.readFileSync(input);
  const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, n * s * s * 3), [n, s, s, 3]);
  const t0 = Date.now();
  const y = model.predict(x);
  const data = y.dataSync();
  console.log(`tfjs ${tf.version.tfjs} backend ${tf.getBackend()}: ${n} x ${s}px -> ${y.shape} in ${Date.now() - t0} ms`);
  fs.writeFileSync(output, Buffer.from(new Float32Array(data).buffer));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
