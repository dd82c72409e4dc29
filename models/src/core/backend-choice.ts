// Which execution providers to try, for a caller's choice and the WebGPU adapter the browser offers. Pure (no
// navigator, no onnxruntime), so the rule is unit-tested in Node; web/ort.ts asks the browser and applies it.

export type WebBackend = 'webgpu' | 'wasm';

/** 'auto': WebGPU on a hardware adapter, else WASM; or an explicit order of backends, tried as given. */
export type BackendChoice = 'auto' | WebBackend[];

/** What the choice looks at in a WebGPU adapter (GPUAdapterInfo's fields, all optional: older browsers lack some). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * A software rasteriser rather than a GPU: what the browser flags as a fallback adapter, or a known CPU
 * implementation by name (Chromium's SwiftShader reports architecture "swiftshader"; Mesa's llvmpipe/lavapipe).
 * Measured here: the detector on SwiftShader WebGPU is ~20x slower than on WASM, so such an adapter is no GPU.
 */
export function isSoftwareAdapter(info: AdapterFacts): boolean {
  if (info.isFallbackAdapter === true) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/.test(text);
}

export interface BackendPlan {
  backends: WebBackend[];
  /** Backends left out on purpose, with why (reported with the chosen backend's fallbacks). */
  skipped: Array<{ name: WebBackend; error: string }>;
}

/**
 * The backends to try, in order. An explicit list is kept as given (a user who picks WebGPU gets it, software or
 * not). 'auto' tries WebGPU first only on a hardware adapter; with a software adapter or none it goes straight to
 * WASM, saying why WebGPU was skipped. `adapter` null: the browser offered no WebGPU adapter.
 */
export function backendPlan(choice: BackendChoice, adapter: AdapterFacts | null): BackendPlan {
  if (choice !== 'auto') return { backends: [...choice], skipped: [] };
  if (!adapter) return { backends: ['wasm'], skipped: [{ name: 'webgpu', error: 'skipped by auto: no WebGPU adapter' }] };
  if (isSoftwareAdapter(adapter)) {
    const what = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || 'fallback adapter';
    return {
      backends: ['wasm'],
      skipped: [{ name: 'webgpu', error: `skipped by auto: software adapter (${what}), slower than WASM` }],
    };
  }
  return { backends: ['webgpu', 'wasm'], skipped: [] };
}
