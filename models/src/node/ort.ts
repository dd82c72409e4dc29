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
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? 0,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new VeracityError(ErrorCode.NoBackend, `onnxruntime-node could not load the model: ${messageOf(e)}`, { cause: e });
  }
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
