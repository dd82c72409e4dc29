// The only module that imports onnxruntime-node.
import * as ort from 'onnxruntime-node';
import type { ProgressCallback } from '../core/bundle.js';
import { ErrorCode, messageOf, VeracityError } from '../core/errors.js';
import type { ModelSession } from '../core/session.js';

export interface NodeSessionOptions {
  /** Intra-op threads; default 0 lets onnxruntime pick (one per physical core). */
  threads?: number;
  inputName?: string;
  outputName?: string;
}

export async function createNodeSession(
  model: Uint8Array,
  options: NodeSessionOptions = {},
  onProgress: ProgressCallback = () => {},
): Promise<ModelSession> {
  const inputName = options.inputName ?? 'pixels';
  const outputName = options.outputName ?? 'logits';
  onProgress({ stage: 'compile', backend: 'node-cpu' });
  const session = await cpuSession(model, options);
  return {
    info: { name: 'node-cpu', threads: options.threads ?? 0 },
    async run(pixels, batch, size) {
      const input = new ort.Tensor('uint8', pixels, [batch, 3, size, size]);
      try {
        const out = await session.run({ [inputName]: input });
        const logits = out[outputName];
        if (!logits) throw new Error(`no output named ${outputName}`);
        return logits.data as Float32Array;
      } catch (e) {
        throw new VeracityError(ErrorCode.Inference, `inference failed: ${messageOf(e)}`, { cause: e });
      } finally {
        input.dispose();
      }
    },
    release: () => session.release(),
  };
}

/** An image-to-image model run on whole RGB images (a TAE round trip): HWC uint8 in, HWC uint8 of the same size out. */
export interface PixelMapSession {
  run(rgb: Uint8Array, width: number, height: number): Promise<Uint8Array>;
  release(): Promise<void>;
}

/**
 * Loads a model whose input and output are uint8 RGB NCHW [1, 3, H, W] of the same shape (tae.py --export's
 * "pixels" -> "roundtrip"). The layout change to and from NCHW happens here, so callers hand over decoded pixels.
 * onnxruntime-node runs a session synchronously on the calling thread: call this from a worker thread when the
 * caller's event loop matters.
 */
export async function createPixelMapSession(model: Uint8Array, options: NodeSessionOptions = {}): Promise<PixelMapSession> {
  const inputName = options.inputName ?? 'pixels';
  const outputName = options.outputName ?? 'roundtrip';
  // Sizes vary per call: an arena would keep the largest one's buffers for good.
  const session = await cpuSession(model, options, { enableCpuMemArena: false });
  return {
    async run(rgb, width, height) {
      if (rgb.length !== width * height * 3)
        throw new VeracityError(ErrorCode.InvalidImage, `${rgb.length} bytes is not ${width}x${height} RGB`);
      const plane = width * height;
      const chw = new Uint8Array(rgb.length);
      for (let i = 0, j = 0; i < plane; i++, j += 3) {
        chw[i] = rgb[j]!;
        chw[plane + i] = rgb[j + 1]!;
        chw[2 * plane + i] = rgb[j + 2]!;
      }
      const input = new ort.Tensor('uint8', chw, [1, 3, height, width]);
      try {
        const out = (await session.run({ [inputName]: input }))[outputName];
        if (!out) throw new Error(`no output named ${outputName}`);
        const data = out.data as Uint8Array;
        if (out.type !== 'uint8' || data.length !== rgb.length)
          throw new VeracityError(
            ErrorCode.ModelOutput,
            `output ${outputName} is ${out.type} [${out.dims.join(', ')}], not uint8 [1, 3, ${height}, ${width}]`,
          );
        const hwc = new Uint8Array(rgb.length);
        for (let i = 0, j = 0; i < plane; i++, j += 3) {
          hwc[j] = data[i]!;
          hwc[j + 1] = data[plane + i]!;
          hwc[j + 2] = data[2 * plane + i]!;
        }
        return hwc;
      } catch (e) {
        if (e instanceof VeracityError) throw e;
        throw new VeracityError(ErrorCode.Inference, `inference failed: ${messageOf(e)}`, { cause: e });
      } finally {
        input.dispose();
      }
    },
    release: () => session.release(),
  };
}

/** One CPU session, whatever it runs; a model onnxruntime cannot load is E_NO_BACKEND. */
async function cpuSession(
  model: Uint8Array,
  options: NodeSessionOptions,
  extra: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? 0,
      graphOptimizationLevel: 'all',
      ...extra,
    });
  } catch (e) {
    throw new VeracityError(ErrorCode.NoBackend, `onnxruntime-node could not load the model: ${messageOf(e)}`, { cause: e });
  }
}
