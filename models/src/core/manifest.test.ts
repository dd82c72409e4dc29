import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { isVeracityError } from './errors.js';
import { parseManifest, sha256Hex, verifyModelBytes, videoClipEvidence } from './manifest.js';

const fixtureDir = new URL('../../fixtures/tiny/', import.meta.url);
const good = JSON.parse(readFileSync(new URL('manifest.json', fixtureDir), 'utf8'));
const schema = JSON.parse(readFileSync(new URL('../../manifest.schema.json', import.meta.url), 'utf8'));
const validateSchema = new Ajv2020({ allErrors: true }).compile(schema);

const clone = <T>(v: T): T => structuredClone(v);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mutations poke arbitrary JSON paths of parsed JSON
const mutations: Array<[string, (m: Record<string, any>) => void]> = [
  ['wrong schema', (m) => (m.schema = 2)],
  ['missing id', (m) => delete m.id],
  ['bad sha256', (m) => (m.model.sha256 = 'ABC')],
  ['path escape', (m) => (m.model.file = '../model.onnx')],
  ['zero bytes', (m) => (m.model.bytes = 0)],
  ['float input', (m) => (m.input.dtype = 'float32')],
  ['huge size', (m) => (m.input.size = 4096)],
  ['labels reordered', (m) => (m.labels = ['synthetic', 'real', 'semisynthetic'])],
  ['negative temperature', (m) => (m.calibration.temperature = -1)],
  ['threshold of 1', (m) => (m.calibration.threshold = 1)],
  ['threshold of 0', (m) => (m.calibration.threshold = 0)],
  ['threshold above 1', (m) => (m.calibration.threshold = 1.3)],
  ['threshold as text', (m) => (m.calibration.threshold = '0.86')],
  ['threshold FPR out of range', (m) => Object.assign(m.calibration, { threshold: 0.86, thresholdFpr: 5 })],
  ['threshold FPR without a threshold', (m) => (m.calibration.thresholdFpr = 0.05)],
  ['unknown crop', (m) => (m.crop = { policy: 'zoom' })],
  ['maxSide on resize', (m) => (m.crop = { policy: 'resize-center', maxSide: 512 })],
  ['no video frames', (m) => (m.video.frames = 0)],
  ['metrics not object', (m) => (m.metrics = [])],
  ['recipe not a string', (m) => (m.recipe = { version: '1.7.0' })],
  ['recipe outside the repository', (m) => (m.recipe = '../recipes/1.7.0.json')],
];

describe('manifest', () => {
  it('accepts the fixture bundle', () => {
    expect(parseManifest(good).id).toBe('veracity-fixture-tiny');
    expect(validateSchema(good)).toBe(true);
  });

  it.each(mutations)('rejects %s in both the runtime validator and the JSON schema', (_name, mutate) => {
    const bad = clone(good);
    mutate(bad);
    expect(() => parseManifest(bad)).toThrow(/E_MANIFEST_INVALID/);
    expect(validateSchema(bad)).toBe(false);
  });

  it('takes an operating point, and a bundle without one (made before them) still loads', () => {
    const withPoint = clone(good);
    withPoint.calibration = { ...withPoint.calibration, threshold: 0.8593, thresholdFpr: 0.05 };
    expect(parseManifest(withPoint).calibration).toMatchObject({ threshold: 0.8593, thresholdFpr: 0.05 });
    expect(validateSchema(withPoint)).toBe(true);
    expect(good.calibration.threshold).toBeUndefined();
    expect(parseManifest(good).calibration.threshold).toBeUndefined();
  });

  it('the shipped bundle names its operating point', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../bundle/manifest.json', import.meta.url), 'utf8'));
    expect(validateSchema(shipped)).toBe(true);
    const cal = parseManifest(shipped).calibration;
    expect(cal.thresholdFpr).toBe(0.05);
    expect(cal.threshold).toBeGreaterThan(0.5);
  });

  it('lists every problem at once', () => {
    const bad = clone(good);
    bad.schema = 3;
    bad.input.layout = 'NHWC';
    bad.calibration.temperature = 0;
    try {
      parseManifest(bad);
      expect.unreachable();
    } catch (e) {
      expect(isVeracityError(e, 'E_MANIFEST_INVALID')).toBe(true);
      expect((e as { details: string[] }).details).toHaveLength(3);
    }
  });

  it('verifies the model bytes against sha256 and size', async () => {
    const manifest = parseManifest(good);
    const bytes = new Uint8Array(readFileSync(new URL('model.onnx', fixtureDir)));
    await expect(verifyModelBytes(manifest, bytes)).resolves.toBeUndefined();
    const flipped = bytes.slice();
    flipped[100] = (flipped[100] as number) ^ 1;
    await expect(verifyModelBytes(manifest, flipped)).rejects.toThrow(/E_SHA256_MISMATCH.*refusing/);
    await expect(verifyModelBytes(manifest, bytes.subarray(0, 10))).rejects.toThrow(/E_SHA256_MISMATCH.*truncated/);
  });

  it('hashes like sha256sum', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('the shipped bundle', () => {
  const shipped = JSON.parse(readFileSync(new URL('../../bundle/manifest.json', import.meta.url), 'utf8'));
  it('passes both validators and names a recipe of its own version that exists', () => {
    expect(parseManifest(shipped).recipe).toBe(`models/train/recipes/${shipped.version}.json`);
    expect(validateSchema(shipped)).toBe(true);
    const recipe = JSON.parse(readFileSync(new URL(`../../../${shipped.recipe}`, import.meta.url), 'utf8'));
    expect(recipe.bundle).toEqual({ id: shipped.id, version: shipped.version });
  });
});

describe('videoClipEvidence', () => {
  const shipped = JSON.parse(readFileSync(new URL('../../bundle/manifest.json', import.meta.url), 'utf8'));
  it("reads the shipped bundle's clip test", () => {
    const e = videoClipEvidence(parseManifest(shipped));
    expect(e).toEqual({ auc: shipped.metrics.video_clips.overall.auc, n: shipped.metrics.video_clips.overall.n });
    expect(e!.n).toBeGreaterThan(0);
  });
  it('is null when the bundle has no clip test or a malformed one', () => {
    expect(videoClipEvidence({ metrics: {} })).toBeNull();
    expect(videoClipEvidence({ metrics: { video_clips: [] } })).toBeNull();
    expect(videoClipEvidence({ metrics: { video_clips: { overall: { auc: null, n: 113 } } } })).toBeNull();
    expect(videoClipEvidence({ metrics: { video_clips: { overall: { auc: 1.2, n: 113 } } } })).toBeNull();
    expect(videoClipEvidence({ metrics: { video_clips: { overall: { auc: 0.9, n: 0 } } } })).toBeNull();
    expect(videoClipEvidence({ metrics: { video_clips: { overall: { auc: 0.9, n: 40 } } } })).toEqual({ auc: 0.9, n: 40 });
  });
});
