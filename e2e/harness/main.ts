/**
 * Test harness page: each key gets its own Web Worker running the runtime (as the web miner does), and Playwright
 * drives it through `window.harness`. Media crosses the page boundary as base64 because page.evaluate takes JSON.
 */
import type { LoadProgress, WebBackend } from '@veracity/models/web';
import { proxy, wrapDetectorWorker } from '@veracity/models/worker';

type Api = ReturnType<typeof wrapDetectorWorker>;
const workers = new Map<string, { api: Api; worker: Worker }>();

const fromB64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const toB64 = (bytes: Uint8Array) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const get = (key: string) => {
  const w = workers.get(key);
  if (!w) throw new Error(`no worker ${key}`);
  return w.api;
};
/** Errors cross page.evaluate as plain objects so tests can assert on the stable code. */
const safely = async <T>(fn: () => Promise<T>) => {
  try {
    return { ok: true as const, value: await fn() };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false as const, code: err.code ?? 'UNKNOWN', message: err.message ?? String(e) };
  }
};

const harness = {
  crossOriginIsolated: globalThis.crossOriginIsolated,
  load: (key: string, bundleUrl: string, backends: WebBackend[], numThreads?: number) =>
    safely(async () => {
      const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
      const api = wrapDetectorWorker(worker);
      workers.set(key, { api, worker });
      const progress: LoadProgress[] = [];
      const loaded = await api.load(
        {
          bundleUrl: new URL(bundleUrl, location.href).href,
          backends,
          wasmPaths: new URL('./ort/', location.href).href,
          ...(numThreads === undefined ? {} : { numThreads }),
        },
        proxy((p: LoadProgress) => void progress.push(p)),
      );
      return { ...loaded, progress };
    }),
  classify: (key: string, b64: string, type: string) => safely(() => get(key).classifyBlob(new Blob([fromB64(b64)], { type }))),
  tensor: (key: string, b64: string, type: string) =>
    safely(async () => toB64(await get(key).tensorForBlob(new Blob([fromB64(b64)], { type })))),
  classifyTensor: (key: string, b64: string, batch: number) => safely(() => get(key).classifyTensor(fromB64(b64), batch)),
  /** Times `iterations` single-image calls after `warmup` untimed ones; returns milliseconds per call. */
  time: (key: string, b64: string, type: string, iterations: number, warmup: number) =>
    safely(async () => {
      const api = get(key);
      const blob = new Blob([fromB64(b64)], { type });
      const tensor = await api.tensorForBlob(blob);
      for (let i = 0; i < warmup; i++) await api.classifyTensor(tensor, 1);
      const infer: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        await api.classifyTensor(tensor, 1);
        infer.push(performance.now() - t0);
      }
      const full: number[] = [];
      for (let i = 0; i < Math.min(iterations, 50); i++) {
        const t0 = performance.now();
        await api.classifyBlob(blob);
        full.push(performance.now() - t0);
      }
      return { infer, full };
    }),
  dispose: async (key: string) => {
    const w = workers.get(key);
    workers.delete(key);
    await w?.api.dispose().catch(() => undefined);
    w?.worker.terminate();
  },
};

declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
