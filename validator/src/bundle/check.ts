/**
 * The checks a bundle passes before a miner publishes it (veracity-bundle publish) or serves it: the manifest against
 * the bundle schema (parseManifest, the run-time form of models/manifest.schema.json), each file it names against its
 * sha256, the total against MAX_BUNDLE_BYTES (what every downloader enforces), and one test inference through the
 * Node runtime. Each failure is a BundleCheckError with a stable code, the problem and its fix.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isVeracityError, type Manifest, parseManifest, type RawImage, sha256Hex } from '@veracity/models';
import { loadNodeDetector } from '@veracity/models/node';
import { bundleDigest, MAX_BUNDLE_BYTES } from '@veracity/protocol';

export const BundleCheckCode = {
  NoManifest: 'E_NO_MANIFEST',
  ManifestInvalid: 'E_MANIFEST_INVALID',
  MissingFile: 'E_MISSING_FILE',
  Sha256Mismatch: 'E_SHA256_MISMATCH',
  TooLarge: 'E_BUNDLE_TOO_LARGE',
  Inference: 'E_TEST_INFERENCE',
} as const;
export type BundleCheckCode = (typeof BundleCheckCode)[keyof typeof BundleCheckCode];

export class BundleCheckError extends Error {
  override name = 'BundleCheckError';
  constructor(
    readonly code: BundleCheckCode,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${code}: ${problem}`);
  }
}

/** A bundle that passed the file checks: what publishing it writes, and what serving it exposes. */
export interface CheckedBundle {
  dir: string;
  manifest: Manifest;
  /** The bundle's id: sha256 of manifest.json's bytes (bundleDigest), what the chain stores and miners declare. */
  sha256: string;
  /** manifest.json and the files it names (relative names), the only files a bundle server hands out. */
  files: string[];
  /** All of them together. */
  bytes: number;
}

/** The files a manifest names besides itself (today the model; a later schema may add more). */
export function namedFiles(manifest: Manifest): string[] {
  return [manifest.model.file];
}

/** Manifest, sha256 of every file, total size. Throws BundleCheckError. */
export async function checkBundleFiles(dir: string): Promise<CheckedBundle> {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  let manifestBytes: Buffer;
  try {
    manifestBytes = readFileSync(manifestPath);
  } catch {
    throw new BundleCheckError(
      BundleCheckCode.NoManifest,
      `no manifest.json in ${root}`,
      'pass --bundle a folder holding manifest.json and the model it names (e.g. models/bundle)',
    );
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
  } catch (e) {
    const why = isVeracityError(e) ? e.message.replace(/^E_MANIFEST_INVALID: /, '') : `not JSON (${(e as Error).message})`;
    throw new BundleCheckError(
      BundleCheckCode.ManifestInvalid,
      `${manifestPath}: ${why}`,
      'make manifest.json match models/manifest.schema.json (models/README.md describes each field)',
    );
  }
  let bytes = manifestBytes.length;
  const files = ['manifest.json'];
  for (const file of namedFiles(manifest)) {
    const path = join(root, file);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new BundleCheckError(
        BundleCheckCode.MissingFile,
        `manifest.json names ${file}, which is not in ${root}`,
        `put ${file} beside manifest.json, or correct model.file`,
      );
    }
    // Before reading it: a bundle that cannot be published is not worth hashing.
    if (bytes + size > MAX_BUNDLE_BYTES) {
      throw new BundleCheckError(
        BundleCheckCode.TooLarge,
        `the bundle is ${bytes + size} bytes, over the ${MAX_BUNDLE_BYTES} a published bundle may weigh`,
        'publish a smaller model (quantise it, or a smaller input size): browsers download it',
      );
    }
    const data = readFileSync(path);
    const actual = await sha256Hex(data);
    if (data.length !== manifest.model.bytes || actual !== manifest.model.sha256) {
      throw new BundleCheckError(
        BundleCheckCode.Sha256Mismatch,
        `${file} has ${data.length} bytes and sha256 ${actual}; manifest.json says ${manifest.model.bytes} bytes, ${manifest.model.sha256}`,
        "write the file's real sha256 and size into manifest.json (export_detector.py does), or restore the file",
      );
    }
    bytes += data.length;
    files.push(file);
  }
  return { dir: root, manifest, sha256: bundleDigest(manifestBytes), files, bytes };
}

/**
 * A deterministic test picture (a colour gradient with a bright square): no file to ship, and every bundle's
 * crop policy can handle it. The check is that the graph loads and answers, not what it answers.
 */
export function testImage(width = 96, height = 64): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const square = x > width / 3 && x < (2 * width) / 3 && y > height / 3 && y < (2 * height) / 3;
      data[i] = square ? 250 : Math.round((255 * x) / width);
      data[i + 1] = square ? 240 : Math.round((255 * y) / height);
      data[i + 2] = square ? 230 : 128;
    }
  return { data, width, height, channels: 3 };
}

/** One inference through onnxruntime-node: three finite probabilities that sum to 1, or E_TEST_INFERENCE. */
export async function testInference(dir: string): Promise<[number, number, number]> {
  let detector;
  try {
    detector = await loadNodeDetector(dir, { threads: 1 });
    const { probabilities } = await detector.classifyImage(testImage());
    const p = [...probabilities] as [number, number, number];
    const sum = p[0] + p[1] + p[2];
    if (!p.every(Number.isFinite) || Math.abs(sum - 1) > 1e-4) throw new Error(`the model answered ${JSON.stringify(p)}`);
    return p;
  } catch (e) {
    throw new BundleCheckError(
      BundleCheckCode.Inference,
      `the test inference failed: ${e instanceof Error ? e.message : String(e)}`,
      "check that the model's input and output names, size and dtype match manifest.json's input section",
    );
  } finally {
    await detector?.dispose().catch(() => undefined);
  }
}

/** Every check, in order: files first (cheap, and the inference would only repeat their errors), then the model. */
export async function checkBundle(dir: string): Promise<CheckedBundle & { probabilities: [number, number, number] }> {
  const checked = await checkBundleFiles(dir);
  const probabilities = await testInference(checked.dir);
  return { ...checked, probabilities };
}
