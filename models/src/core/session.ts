import { ErrorCode, VeracityError } from './errors.js';

/** What the platform adapters (ort-web.ts, ort-node.ts) provide; the core never imports onnxruntime itself. */
export type BackendName = 'webgpu' | 'wasm' | 'node-cpu';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** Reported to every caller so UIs can say what the model actually runs on. */
export interface BackendInfo {
  name: BackendName;
  /** WebGPU adapter, when name is 'webgpu'. */
  adapter?: AdapterInfo;
  /** CPU threads the backend may use. */
  threads?: number;
  /** Backends tried before this one, with why each failed. */
  fallbacks?: Array<{ name: BackendName; error: string }>;
}

export interface ModelSession {
  readonly info: BackendInfo;
  /** Runs `batch` uint8 [3,S,S] tensors laid end to end; returns logits [batch, 3] flattened. */
  run(pixels: Uint8Array, batch: number, size: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Runs async jobs one at a time. onnxruntime sessions (WebGPU ones above all) must not run concurrently; every
 * caller goes through one queue per session instead of hoping callers never overlap.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  run<T>(job: () => Promise<T>): Promise<T> {
    return this.enqueue(() => {
      if (this.closed) throw new VeracityError(ErrorCode.Disposed, 'the model was closed before this job ran');
      return job();
    });
  }

  /**
   * Runs `last` once the job now running ends; every job queued behind it is refused (E_DISPOSED) instead of run.
   * A miner stopped with a backlog of video frames closes in one inference, not in all of them.
   */
  close<T>(last: () => Promise<T>): Promise<T> {
    this.closed = true;
    return this.enqueue(last);
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    // Keep the chain alive whatever this job does; the caller still sees its own rejection.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
