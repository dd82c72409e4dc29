// The only module that imports onnxruntime-web. Its default entry (JSEP build) carries WebGPU and WASM in one
// .wasm file, so a page ships a single 28 MB binary whichever backend it ends up on.
import * as ort from 'onnxruntime-web';
import { type AdapterFacts, type BackendChoice, backendPlan, type WebBackend } from '../core/backend-choice.js';
import type { ProgressCallback } from '../core/bundle.js';
import { ErrorCode, messageOf, VeracityError } from '../core/errors.js';
import type { AdapterInfo, BackendInfo, ModelSession } from '../core/session.js';

export type { BackendChoice, WebBackend } from '../core/backend-choice.js';

export interface WebSessionOptions {
  /**
   * Backends in order of preference (the first that starts wins), or 'auto' (the default): WebGPU then WASM on a
   * hardware adapter, WASM alone on a software adapter such as SwiftShader or on none (see backendPlan).
   */
  backends?: BackendChoice;
  /**
   * Where ORT's .wasm lives. A prefix URL for pages and workers; an object `{ wasm: url }` in extension service
   * workers, which forbid import() and must use files shipped inside the package.
   */
  wasmPaths?: ort.Env.WasmPrefixOrFilePaths;
  /** WASM threads. Default: 1, or up to 4 when the context is cross-origin isolated (threads need SharedArrayBuffer). */
  numThreads?: number;
  inputName?: string;
  outputName?: string;
}

interface Provider {
  /** Throws with the reason this backend cannot run here; returns what to report about it. */
  prepare(options: WebSessionOptions, probe: AdapterProbe): Promise<Partial<BackendInfo>>;
  sessionOptions(): ort.InferenceSession.SessionOptions;
}

/** The WebGPU adapter, asked for once per session attempt: the auto choice and the WebGPU provider share it. */
class AdapterProbe {
  private adapter: Promise<{ adapter: GPUAdapter; info: AdapterInfo }> | null = null;

  /** Throws with the reason there is no adapter. */
  get(): Promise<{ adapter: GPUAdapter; info: AdapterInfo }> {
    this.adapter ??= (async () => {
      const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
      if (!gpu) throw new Error('navigator.gpu is missing (WebGPU is disabled or unsupported in this browser)');
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('requestAdapter() returned null (no usable GPU adapter)');
      // adapter.info since Chrome 127; requestAdapterInfo() before it.
      const raw = (adapter.info ??
        (await (adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<GPUAdapterInfo> }).requestAdapterInfo?.())) as
        (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
      const info: AdapterInfo = {
        vendor: raw?.vendor ?? '',
        architecture: raw?.architecture ?? '',
        description: raw?.description ?? '',
        isFallbackAdapter: raw?.isFallbackAdapter ?? false,
      };
      return { adapter, info };
    })();
    return this.adapter;
  }

  /** The adapter's facts for the auto choice; null when there is none. */
  async facts(): Promise<AdapterFacts | null> {
    return this.get().then(
      (a) => a.info,
      () => null,
    );
  }
}

function defaultThreads(): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return isolated ? Math.max(1, Math.min(4, cores)) : 1;
}

/** Execution providers, tried in the caller's order. Adding a backend means adding a row here. */
const PROVIDERS: Record<WebBackend, Provider> = {
  webgpu: {
    async prepare(_options, probe) {
      const { adapter, info } = await probe.get();
      // Hand ORT the adapter we inspected so the one we report is the one it uses.
      ort.env.webgpu.adapter = adapter;
      return { adapter: info };
    },
    sessionOptions: () => ({ executionProviders: ['webgpu'], graphOptimizationLevel: 'all' }),
  },
  wasm: {
    async prepare() {
      if (typeof WebAssembly !== 'object') throw new Error('WebAssembly is unavailable');
      return { threads: ort.env.wasm.numThreads ?? 1 };
    },
    sessionOptions: () => ({ executionProviders: ['wasm'], graphOptimizationLevel: 'all' }),
  },
};

let configured = false;

/** ORT's wasm settings are global and read once, at the first session: set them once, before anything else. */
function configureOnce(options: WebSessionOptions): void {
  if (configured) return;
  configured = true;
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  ort.env.wasm.numThreads = options.numThreads ?? defaultThreads();
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
}

/**
 * Creates a session on the first backend that works. When none does, one E_NO_BACKEND error lists every backend's
 * failure (as onnxruntime's backend-impl.ts does), because "no backend" alone tells a user nothing.
 */
export async function createWebSession(
  model: Uint8Array,
  options: WebSessionOptions = {},
  onProgress: ProgressCallback = () => {},
): Promise<ModelSession> {
  configureOnce(options);
  const inputName = options.inputName ?? 'pixels';
  const outputName = options.outputName ?? 'logits';
  const probe = new AdapterProbe();
  const choice = options.backends ?? 'auto';
  const plan = backendPlan(choice, choice === 'auto' ? await probe.facts() : null);
  const failures: Array<{ name: WebBackend; error: string }> = [...plan.skipped];
  for (const name of plan.backends) {
    const provider = PROVIDERS[name];
    try {
      const extra = await provider.prepare(options, probe);
      onProgress({ stage: 'compile', backend: name });
      const session = await ort.InferenceSession.create(model, provider.sessionOptions());
      const info: BackendInfo = { name, ...extra, ...(failures.length > 0 ? { fallbacks: [...failures] } : {}) };
      return wrap(session, info, inputName, outputName);
    } catch (e) {
      failures.push({ name, error: messageOf(e) });
    }
  }
  throw new VeracityError(
    ErrorCode.NoBackend,
    `no inference backend could start: ${failures.map((f) => `${f.name}: ${f.error}`).join('; ')}`,
    { details: failures },
  );
}

function wrap(session: ort.InferenceSession, info: BackendInfo, inputName: string, outputName: string): ModelSession {
  return {
    info,
    async run(pixels, batch, size) {
      const input = new ort.Tensor('uint8', pixels, [batch, 3, size, size]);
      try {
        const out = await session.run({ [inputName]: input });
        const logits = out[outputName];
        if (!logits) throw new Error(`no output named ${outputName}`);
        // getData() downloads GPU-resident outputs; for CPU outputs it returns the data as is.
        return (await logits.getData(true)) as Float32Array;
      } catch (e) {
        throw new VeracityError(ErrorCode.Inference, `${info.name} inference failed: ${messageOf(e)}`, { cause: e });
      } finally {
        input.dispose();
      }
    },
    release: () => session.release(),
  };
}
