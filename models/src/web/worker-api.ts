/**
 * The detector behind a comlink Web Worker, so inference never blocks a page's main thread. The worker calls
 * exposeDetector(); the page calls wrapDetectorWorker(worker). Used by the web miner and the e2e harness.
 */
import * as Comlink from 'comlink';
import type { LoadProgress } from '../core/bundle.js';
import type { Probabilities } from '@veracity/protocol/domain';
import type { Detector, FramesResult, ImageResult } from '../core/classify.js';
import { decodeBlob } from './decode.js';
import { ErrorCode, VeracityError } from '../core/errors.js';
import type { RawImage } from '../core/image.js';
import type { Manifest } from '../core/manifest.js';
import type { BackendInfo } from '../core/session.js';
import { loadWebDetector, type WebDetectorOptions } from './index.js';

export type WorkerLoadOptions = Omit<WebDetectorOptions, 'onProgress'> & { bundleUrl: string };

export interface DetectorWorkerApi {
  load(options: WorkerLoadOptions, onProgress?: (p: LoadProgress) => void): Promise<{ backend: BackendInfo; manifest: Manifest }>;
  classifyImage(image: RawImage): Promise<ImageResult>;
  classifyBlob(blob: Blob): Promise<ImageResult>;
  classifyImages(images: RawImage[]): Promise<ImageResult[]>;
  classifyFrames(frames: RawImage[]): Promise<FramesResult>;
  classifyTensor(pixels: Uint8Array, batch: number): Promise<Probabilities[]>;
  /** The exact uint8 tensor the model would see for encoded bytes (golden tests compare it with Node's). */
  tensorForBlob(blob: Blob): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

/**
 * comlink sends thrown errors as {name, message, stack}; keep the VeracityError code and details too so callers
 * across the worker boundary still switch on `code`.
 */
function registerErrorTransfer(): void {
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<unknown, unknown>;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown) {
      const value = (thrown as { value: unknown }).value;
      if (value instanceof VeracityError) {
        return [{ isError: true, veracity: { code: value.code, message: value.message, details: value.details } }, []];
      }
      return base.serialize(thrown);
    },
    deserialize(serialized) {
      const v = (serialized as { veracity?: { code: VeracityError['code']; message: string; details: unknown } }).veracity;
      if (v) {
        const err = new VeracityError(v.code, '', { details: v.details });
        err.message = v.message;
        throw err;
      }
      return base.deserialize(serialized);
    },
  });
}

export function exposeDetector(scope: Comlink.Endpoint = globalThis as unknown as Comlink.Endpoint): void {
  registerErrorTransfer();
  let detector: Detector | undefined;
  const ready = (): Detector => {
    if (!detector) throw new VeracityError(ErrorCode.NoBackend, 'the detector is not loaded yet: call load() first');
    return detector;
  };
  const api: DetectorWorkerApi = {
    async load(options, onProgress) {
      await detector?.dispose();
      detector = await loadWebDetector(options.bundleUrl, { ...options, onProgress: (p) => onProgress?.(p) });
      return { backend: detector.backend, manifest: detector.manifest };
    },
    classifyImage: async (image) => ready().classifyImage(image),
    classifyBlob: async (blob) => ready().classifyImage(await decodeBlob(blob)),
    classifyImages: async (images) => ready().classifyImages(images),
    classifyFrames: async (frames) => ready().classifyFrames(frames),
    classifyTensor: async (pixels, batch) => ready().classifyTensor(pixels, batch),
    async tensorForBlob(blob) {
      const tensor = ready().tensorFor(await decodeBlob(blob));
      return Comlink.transfer(tensor, [tensor.buffer]);
    },
    async dispose() {
      await detector?.dispose();
      detector = undefined;
    },
  };
  Comlink.expose(api, scope);
}

export function wrapDetectorWorker(worker: Worker): Comlink.Remote<DetectorWorkerApi> {
  registerErrorTransfer();
  return Comlink.wrap<DetectorWorkerApi>(worker);
}

export { proxy } from 'comlink';
