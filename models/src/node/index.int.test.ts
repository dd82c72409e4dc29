// Integration: the real fixture bundle through onnxruntime-node and sharp (no mocks).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Detector,
  decodeImageNode,
  isVeracityError,
  type LoadProgress,
  loadNodeDetector,
  maxAbsDiff,
  pAI,
} from './index.js';

const fixture = fileURLToPath(new URL('../../fixtures/tiny/', import.meta.url));

/** Runs a bundle's parity.json (PyTorch's probabilities for recorded uint8 inputs); returns the worst difference. */
async function parityDiff(detector: Detector, dir: string): Promise<number> {
  const parity = JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8')) as {
    cases: Array<{ pixels_b64: string; probs: number[] }>;
  };
  expect(parity.cases.length).toBeGreaterThanOrEqual(4);
  const pixels = Buffer.concat(parity.cases.map((c) => Buffer.from(c.pixels_b64, 'base64')));
  const probs = await detector.classifyTensor(new Uint8Array(pixels), parity.cases.length);
  return maxAbsDiff(
    parity.cases.map((c) => c.probs),
    probs,
  );
}

async function pngOf(width: number, height: number, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * seed * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('runtime in Node (fixture bundle)', () => {
  let detector: Detector;
  const progress: LoadProgress[] = [];

  beforeAll(async () => {
    detector = await loadNodeDetector(fixture, { onProgress: (p) => progress.push(p), maxBatch: 3 });
  });
  afterAll(() => detector.dispose());

  it('reports load progress in order and the backend it chose', () => {
    const stages = [...new Set(progress.map((p) => p.stage))];
    expect(stages).toEqual(['manifest', 'download', 'verify', 'compile', 'warmup', 'ready']);
    const last = progress.filter((p) => p.stage === 'download').at(-1);
    expect(last?.loaded).toBe(last?.total);
    expect(detector.backend.name).toBe('node-cpu');
  });

  it('reproduces the PyTorch probabilities of the export within 1e-4', async () => {
    expect(await parityDiff(detector, fixture)).toBeLessThan(1e-4);
  });

  it('classifies decoded images with calibrated probabilities; batches equal singles', async () => {
    const pngs = await Promise.all([pngOf(64, 48, 1), pngOf(300, 200, 2), pngOf(31, 90, 3), pngOf(500, 500, 4)]);
    const images = await Promise.all(pngs.map((b) => decodeImageNode(b)));
    const batch = await detector.classifyImages(images);
    for (const [i, img] of images.entries()) {
      const single = await detector.classifyImage(img);
      const r = batch[i]!;
      expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(r.ai).toBeCloseTo(pAI(r.probabilities), 12);
      expect(maxAbsDiff([single.probabilities], [r.probabilities])).toBeLessThan(1e-6);
    }
    // The untrained fixture still separates inputs: different images give different scores.
    expect(new Set(batch.map((r) => r.probabilities[0].toFixed(6))).size).toBeGreaterThan(1);
  });

  it('aggregates frames of a clip', async () => {
    const frames = await Promise.all([1, 2, 3].map(async (s) => decodeImageNode(await pngOf(80, 60, s))));
    const clip = await detector.classifyFrames(frames);
    expect(clip.frames).toHaveLength(3);
    const mean = [0, 1, 2].map((j) => clip.frames.reduce((a, f) => a + f.probabilities[j]!, 0) / 3);
    expect(maxAbsDiff([mean], [clip.probabilities])).toBeLessThan(1e-12);
  });

  it('serialises concurrent calls without mixing results', async () => {
    const images = await Promise.all([5, 6, 7, 8, 9, 10].map(async (s) => decodeImageNode(await pngOf(50, 50, s))));
    const expected = await detector.classifyImages(images);
    const concurrent = await Promise.all(images.map((img) => detector.classifyImage(img)));
    expect(
      maxAbsDiff(
        concurrent.map((r) => r.probabilities),
        expected.map((r) => r.probabilities),
      ),
    ).toBeLessThan(1e-6);
  });

  it('refuses corrupt media with E_DECODE', async () => {
    const png = await pngOf(40, 40, 1);
    await expect(decodeImageNode(png.subarray(0, 60))).rejects.toSatisfy((e) => isVeracityError(e, 'E_DECODE'));
    await expect(decodeImageNode(new TextEncoder().encode('<svg'))).rejects.toSatisfy((e) => isVeracityError(e, 'E_DECODE'));
  });

  it('refuses a bundle whose model does not match its sha256, and a missing bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'veracity-bundle-'));
    cpSync(fixture, dir, { recursive: true });
    const model = readFileSync(join(dir, 'model.onnx'));
    model.writeUInt8(model.readUInt8(model.length - 5) ^ 0xff, model.length - 5);
    writeFileSync(join(dir, 'model.onnx'), model);
    await expect(loadNodeDetector(dir)).rejects.toSatisfy((e) => isVeracityError(e, 'E_SHA256_MISMATCH'));
    await expect(loadNodeDetector(join(dir, 'nope'))).rejects.toSatisfy((e) => isVeracityError(e, 'E_BUNDLE_FETCH'));
  });
});

// The shipped detector (models/bundle) must match the PyTorch model it was exported from, through this runtime.
describe('shipped detector bundle', () => {
  const bundle = fileURLToPath(new URL('../../bundle/', import.meta.url));
  it('loads, verifies its sha256 and reproduces the PyTorch probabilities within 1e-4', async () => {
    const detector = await loadNodeDetector(bundle);
    try {
      expect(await parityDiff(detector, bundle)).toBeLessThan(1e-4);
    } finally {
      await detector.dispose();
    }
  });
});
