// The runtime in a real Chromium: a Web Worker runs the fixture bundle on WebGPU (SwiftShader here) and on WASM,
// and both must see the same tensors and give the same probabilities as onnxruntime-node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, expect, type Page, test } from '@playwright/test';
import { type Detector, decodeImageNode, loadNodeDetector, maxAbsDiff } from '@veracity/models/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/browser.js';
import { FIXTURE_BUNDLE, HARNESS_DIST } from './support/harness.js';
import { type TestImage, testImages } from './support/images.js';
import { type Served, serveStatic } from './support/static-server.js';

let served: Served;
let node: Detector;
let images: TestImage[];

test.beforeAll(async () => {
  served = await serveStatic({ '/': HARNESS_DIST, '/bundles/tiny/': FIXTURE_BUNDLE });
  node = await loadNodeDetector(FIXTURE_BUNDLE);
  images = await testImages();
});
test.afterAll(async () => {
  await node.dispose();
  await served.close();
});

async function openHarness(page: Page): Promise<void> {
  page.on('console', (m) => m.type() === 'error' && console.log(`[page] ${m.text()}`));
  await page.goto(served.url);
  await page.waitForFunction(() => 'harness' in window);
}

for (const backend of ['webgpu', 'wasm'] as const) {
  test(`${backend} in a worker matches onnxruntime-node`, async ({ page }) => {
    await openHarness(page);
    const loaded = await page.evaluate(([b]) => window.harness.load('w', '/bundles/tiny/', [b]), [backend] as const);
    if (!loaded.ok) throw new Error(`${backend} failed to load: ${loaded.message}`);
    expect(loaded.value.backend.name).toBe(backend);
    expect(loaded.value.progress.map((p) => p.stage)).toEqual(
      expect.arrayContaining(['download', 'verify', 'compile', 'warmup', 'ready']),
    );
    if (backend === 'webgpu') expect(typeof loaded.value.backend.adapter?.isFallbackAdapter).toBe('boolean');

    for (const img of images) {
      const b64 = img.bytes.toString('base64');
      const decoded = await decodeImageNode(img.bytes);
      const tensor = await page.evaluate(([d, t]) => window.harness.tensor('w', d, t), [b64, img.type] as const);
      if (!tensor.ok) throw new Error(tensor.message);
      // The golden check: browser decoding + pre-processing gives Node's exact bytes.
      const browserTensor = Buffer.from(tensor.value, 'base64');
      const nodeTensor = Buffer.from(node.tensorFor(decoded));
      expect(browserTensor.equals(nodeTensor), `${img.name}: browser and Node tensors differ`).toBe(true);

      const result = await page.evaluate(([d, t]) => window.harness.classify('w', d, t), [b64, img.type] as const);
      if (!result.ok) throw new Error(result.message);
      const expected = await node.classifyImage(decoded);
      expect(maxAbsDiff([expected.probabilities], [result.value.probabilities]), `${img.name} on ${backend}`).toBeLessThan(1e-4);
    }

    // Parity with PyTorch on the tensors the export recorded.
    const parity = JSON.parse(readFileSync(join(FIXTURE_BUNDLE, 'parity.json'), 'utf8')) as {
      cases: Array<{ pixels_b64: string; probs: number[] }>;
    };
    const all = Buffer.concat(parity.cases.map((c) => Buffer.from(c.pixels_b64, 'base64'))).toString('base64');
    const probs = await page.evaluate(([d, n]) => window.harness.classifyTensor('w', d, n), [all, parity.cases.length] as const);
    if (!probs.ok) throw new Error(probs.message);
    expect(
      maxAbsDiff(
        parity.cases.map((c) => c.probs),
        probs.value,
      ),
    ).toBeLessThan(1e-4);

    // Corrupt media is refused with the stable code, across the worker boundary.
    const corrupt = await page.evaluate(([d]) => window.harness.classify('w', d, 'image/jpeg'), [
      images[1]!.bytes.subarray(0, 200).toString('base64'),
    ] as const);
    expect(corrupt.ok ? 'ok' : corrupt.code).toBe('E_DECODE');
  });
}

test('a bundle whose model does not match its sha256 is refused', async ({ page }) => {
  await page.route('**/bundles/tiny/model.onnx', async (route) => {
    const body = readFileSync(join(FIXTURE_BUNDLE, 'model.onnx'));
    body.writeUInt8(body.readUInt8(body.length - 3) ^ 0xff, body.length - 3);
    await route.fulfill({ body, contentType: 'application/octet-stream' });
  });
  await openHarness(page);
  const loaded = await page.evaluate(() => window.harness.load('w', '/bundles/tiny/', ['wasm']));
  expect(loaded.ok ? 'ok' : loaded.code).toBe('E_SHA256_MISMATCH');
});

test('when no backend starts, one error names every failure', async () => {
  // Without --enable-unsafe-webgpu this Chromium has no WebGPU adapter: the honest way to make WebGPU fail.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
  });
  try {
    const page = await browser.newPage();
    await openHarness(page);
    const only = await page.evaluate(() => window.harness.load('a', '/bundles/tiny/', ['webgpu']));
    expect(only.ok ? 'ok' : only.code).toBe('E_NO_BACKEND');
    expect(only.ok ? '' : only.message).toMatch(/webgpu: .*(adapter|navigator\.gpu)/);
    const fallback = await page.evaluate(() => window.harness.load('b', '/bundles/tiny/', ['webgpu', 'wasm']));
    if (!fallback.ok) throw new Error(fallback.message);
    expect(fallback.value.backend.name).toBe('wasm');
    expect(fallback.value.backend.fallbacks?.[0]?.name).toBe('webgpu');
  } finally {
    await browser.close();
  }
});
