/** Node entry point: the core plus onnxruntime-node, sharp decoding and bundles read from folders or URLs. */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  type BundleSource,
  bundleTooLarge,
  type LoadBundleOptions,
  loadBundle,
  type ProgressCallback,
  readStream,
  urlBundleSource,
} from '../core/bundle.js';
import { createDetector, type Detector, type DetectorOptions } from '../core/classify.js';
import { ErrorCode, messageOf, VeracityError } from '../core/errors.js';
import { createNodeSession, type NodeSessionOptions } from './ort.js';

export { decodeImageNode, sharpFallback } from './decode.js';
export { clipDuration, clipFrames, decodeClipNode, frameAt, h264RoundTrip, type H264Options } from './video.js';
export * from '../index.js';
export { createNodeSession, createPixelMapSession, type NodeSessionOptions, type PixelMapSession } from './ort.js';

/** A bundle in a local folder. */
export function dirBundleSource(dir: string): BundleSource {
  const root = resolve(dir);
  return {
    location: root,
    async readManifest(maxBytes) {
      const path = join(root, 'manifest.json');
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch (e) {
        throw new VeracityError(ErrorCode.BundleFetch, `cannot read ${path}: ${messageOf(e)}`, { cause: e });
      }
      if (size > maxBytes) throw bundleTooLarge(path, size, maxBytes);
      try {
        return new Uint8Array(await readFile(path));
      } catch (e) {
        throw new VeracityError(ErrorCode.BundleFetch, `cannot read ${path}: ${messageOf(e)}`, { cause: e });
      }
    },
    async readModel(file, expectedBytes, onBytes) {
      const path = join(root, file);
      try {
        const stream = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
        return await readStream(stream, expectedBytes, onBytes);
      } catch (e) {
        throw new VeracityError(ErrorCode.BundleFetch, `cannot read ${path}: ${messageOf(e)}`, { cause: e });
      }
    },
  };
}

/** `http(s)://` and `file://` locations go through fetch; anything else is a folder path. */
export function nodeBundleSource(location: string): BundleSource {
  return /^https?:\/\//.test(location) ? urlBundleSource(location) : dirBundleSource(location.replace(/^file:\/\//, ''));
}

export interface NodeDetectorOptions extends DetectorOptions, NodeSessionOptions, LoadBundleOptions {
  onProgress?: ProgressCallback;
}

export async function loadNodeDetector(location: string, options: NodeDetectorOptions = {}): Promise<Detector> {
  const bundle = await loadBundle(nodeBundleSource(location), options.onProgress, options);
  return createDetector(
    bundle,
    (model, onProgress) =>
      createNodeSession(
        model,
        { inputName: bundle.manifest.input.name, outputName: bundle.manifest.input.output, threads: options.threads },
        onProgress,
      ),
    options.onProgress,
    options,
  );
}
