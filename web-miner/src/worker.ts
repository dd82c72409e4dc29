/**
 * The model worker: loads the bundle (download, verify, compile, warm-up) and answers challenges, decoding the
 * media here too, so the page's thread only moves bytes. Results are returned as values, never thrown, so the
 * stable error codes survive the trip through comlink.
 */
import { type BackendChoice, decodeBlob, type LoadProgress, loadWebDetector } from '@veracity/models/web';
import type { Modality, Probabilities } from '@veracity/protocol/domain';
import { bundleDigest, MAX_BUNDLE_BYTES } from '@veracity/protocol';
import * as Comlink from 'comlink';

type Detector = Awaited<ReturnType<typeof loadWebDetector>>;

export type Outcome<T> = ({ ok: true } & T) | { ok: false; code: string; message: string };

export interface LoadResult {
  backend: Detector['backend'];
  /** `sha256` is the bundle's id (bundleDigest of manifest.json as downloaded), declared in every auth. */
  model: { name: string; version: string; inputSize: number; sha256: string; url: string };
}

let detector: Detector | undefined;

const failure = (e: unknown): { ok: false; code: string; message: string } => {
  const err = e as { code?: unknown; message?: unknown };
  return {
    ok: false,
    code: typeof err?.code === 'string' ? err.code : 'E_UNKNOWN',
    message: typeof err?.message === 'string' ? err.message : String(e),
  };
};

const api = {
  async load(
    options: { bundleUrl: string; backends: BackendChoice; wasmPaths: string; numThreads?: number },
    onProgress: (p: LoadProgress) => void,
  ): Promise<Outcome<LoadResult>> {
    try {
      await detector?.dispose();
      detector = undefined;
      const d = await loadWebDetector(options.bundleUrl, {
        backends: options.backends,
        wasmPaths: options.wasmPaths,
        ...(options.numThreads === undefined ? {} : { numThreads: options.numThreads }),
        // A bundle from any URL gets a published bundle's cap: the page downloads nothing heavier.
        maxBytes: MAX_BUNDLE_BYTES,
        onProgress: (p) => onProgress(p),
      });
      detector = d;
      const m = d.manifest as unknown as { id?: string; version?: string; input?: { size?: number } };
      return {
        ok: true,
        backend: d.backend,
        model: {
          name: m.id ?? 'model',
          version: m.version ?? '',
          inputSize: m.input?.size ?? 0,
          sha256: bundleDigest(d.manifestBytes!),
          url: options.bundleUrl,
        },
      };
    } catch (e) {
      return failure(e);
    }
  },

  /**
   * Decodes and classifies one challenge. `notAfter` is the miner's local deadline (Date.now() is the same wall
   * clock in the worker): a challenge that waited in the queue past it is skipped, not computed.
   */
  async answer(
    media: Uint8Array[],
    mimes: string[],
    modality: Modality,
    notAfter: number,
  ): Promise<Outcome<{ probabilities: Probabilities; ms: number }> | { ok: 'expired' }> {
    if (!detector) return { ok: false, code: 'E_NO_BACKEND', message: 'the model is not loaded' };
    if (Date.now() >= notAfter) return { ok: 'expired' };
    const t0 = performance.now();
    try {
      const frames = await Promise.all(
        media.map((bytes, i) => decodeBlob(new Blob([bytes as BlobPart], { type: mimes[i] ?? '' }))),
      );
      const result = await detector.classifyMedia(frames, modality);
      return { ok: true, probabilities: result.probabilities, ms: performance.now() - t0 };
    } catch (e) {
      return failure(e);
    }
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
