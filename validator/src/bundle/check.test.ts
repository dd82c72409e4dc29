import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@veracity/models';
import { bundleDigest, MAX_BUNDLE_BYTES } from '@veracity/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIRS } from '../test-support/published-subnet.js';
import { BundleCheckError, checkBundle, checkBundleFiles } from './check.js';

const TINY = BUNDLE_DIRS.tiny;
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the tiny fixture with `change` applied to its manifest (and files). */
function variant(change: (dir: string, manifest: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-bundle-check-'));
  made.push(dir);
  copyFileSync(join(TINY, 'model.onnx'), join(dir, 'model.onnx'));
  const manifest = JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  change(dir, manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<BundleCheckError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(BundleCheckError);
  return e as BundleCheckError;
}

describe('bundle checks before publishing', () => {
  it('passes the tiny fixture and the shipped detector: id = sha256 of manifest.json, files = manifest + model', async () => {
    for (const dir of [TINY, BUNDLE_DIRS.detector]) {
      const c = await checkBundleFiles(dir);
      expect(c.sha256).toBe(bundleDigest(readFileSync(join(dir, 'manifest.json'))));
      expect(c.files).toEqual(['manifest.json', 'model.onnx']);
      expect(c.bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    }
    const tiny = await checkBundle(TINY);
    expect(tiny.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
  });

  it('E_NO_MANIFEST: a folder without manifest.json', async () => {
    const e = await refusal(checkBundleFiles(mkdtempSync(join(tmpdir(), 'veracity-empty-'))));
    expect(e.code).toBe('E_NO_MANIFEST');
    expect(e.fix).toMatch(/--bundle a folder holding manifest.json/);
  });

  it('E_MANIFEST_INVALID: not JSON, and a manifest against the schema (every problem named)', async () => {
    const notJson = variant(() => undefined);
    writeFileSync(join(notJson, 'manifest.json'), '{ nope');
    expect((await refusal(checkBundleFiles(notJson))).problem).toMatch(/manifest\.json: not JSON/);
    const bad = variant((_, m) => {
      m.schema = 2;
      (m.input as Record<string, unknown>).dtype = 'float32';
    });
    const e = await refusal(checkBundleFiles(bad));
    expect(e.code).toBe('E_MANIFEST_INVALID');
    expect(e.problem).toMatch(/schema must be 1; input\.dtype must be "uint8"/);
    expect(e.fix).toMatch(/models\/manifest\.schema\.json/);
  });

  it('E_MISSING_FILE: the manifest names a model that is not there', async () => {
    const dir = variant((_, m) => ((m.model as Record<string, unknown>).file = 'other.onnx'));
    const e = await refusal(checkBundleFiles(dir));
    expect(e.code).toBe('E_MISSING_FILE');
    expect(e.problem).toMatch(/manifest\.json names other\.onnx, which is not in /);
  });

  it('E_SHA256_MISMATCH: a model that is not the one the manifest pins', async () => {
    const dir = variant((d) => {
      const bytes = readFileSync(join(d, 'model.onnx'));
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(join(d, 'model.onnx'), bytes);
    });
    const e = await refusal(checkBundleFiles(dir));
    expect(e.code).toBe('E_SHA256_MISMATCH');
    expect(e.problem).toMatch(/model\.onnx has 7194 bytes and sha256 [0-9a-f]{64}; manifest\.json says 7194 bytes, 86633c8a/);
  });

  it('E_BUNDLE_TOO_LARGE: over MAX_BUNDLE_BYTES (10 MiB), before hashing it', async () => {
    const dir = variant((d, m) => {
      writeFileSync(join(d, 'model.onnx'), new Uint8Array(MAX_BUNDLE_BYTES + 1));
      (m.model as Record<string, unknown>).bytes = MAX_BUNDLE_BYTES + 1;
    });
    const e = await refusal(checkBundleFiles(dir));
    expect(e.code).toBe('E_BUNDLE_TOO_LARGE');
    expect(e.problem).toMatch(/the bundle is \d+ bytes, over the 10485760 a published bundle may weigh/);
  });

  it('E_TEST_INFERENCE: files that check out but a model that does not run', async () => {
    const garbage = new TextEncoder().encode('not an onnx graph');
    const sha = await sha256Hex(garbage);
    const dir = variant((d, m) => {
      writeFileSync(join(d, 'model.onnx'), garbage);
      Object.assign(m.model as Record<string, unknown>, { sha256: sha, bytes: garbage.length });
    });
    await checkBundleFiles(dir); // the files are consistent
    const e = await refusal(checkBundle(dir));
    expect(e.code).toBe('E_TEST_INFERENCE');
    expect(e.problem).toMatch(/^the test inference failed: /);
    expect(e.fix).toMatch(/input and output names/);
  });
});
