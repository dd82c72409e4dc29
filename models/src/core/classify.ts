import type { Bundle, ProgressCallback } from './bundle.js';
import { ErrorCode, VeracityError } from './errors.js';
import type { RawImage } from './image.js';
import {
  aggregateFrames,
  LABELS,
  type Label,
  meanProbabilities,
  MODALITIES,
  type Modality,
  pAI,
  type Probabilities,
} from '@veracity/protocol/domain';
import type { Manifest } from './manifest.js';
import { cropsPerImage, imageToTensor } from './preprocess.js';
import { type BackendInfo, type ModelSession, SerialQueue } from './session.js';

export interface Verdict {
  probabilities: Probabilities;
  /** The most likely label. */
  label: Label;
  /** pAI(probabilities): the "is this AI" number UIs and binary metrics use. */
  ai: number;
}

export interface ImageResult extends Verdict {
  /** Wall time of pre-processing and inference for this call, divided evenly over its images. */
  ms: number;
}

export interface FramesResult extends Verdict {
  frames: ImageResult[];
}

/** Numerically stable softmax of logits / temperature. */
export function calibrate(logits: ArrayLike<number>, temperature: number): Probabilities {
  const z = [0, 1, 2].map((i) => (logits[i] as number) / temperature);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s) as Probabilities;
}

/** Largest absolute difference between two lists of probability vectors (parity checks across platforms). */
export function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ArrayLike<number>;
    const y = b[i] as ArrayLike<number>;
    if (x.length !== y.length) return Number.POSITIVE_INFINITY;
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs((x[j] as number) - (y[j] as number)));
  }
  return worst;
}

export function verdict(probabilities: Probabilities): Verdict {
  let best = 0;
  for (let i = 1; i < 3; i++) if (probabilities[i]! > probabilities[best]!) best = i;
  return { probabilities, label: LABELS[best] as Label, ai: pAI(probabilities) };
}

/** Timestamps (seconds) of `count` frames spread evenly over a clip, avoiding the very first and last instant. */
export function sampleFrameTimes(durationSeconds: number, count: number): number[] {
  if (!(durationSeconds > 0) || count < 1) return [0];
  return Array.from({ length: count }, (_, i) => ((i + 0.5) * durationSeconds) / count);
}

export interface DetectorOptions {
  /** Most crops sent to the session in one run; bigger batches amortise overhead but hold more memory. */
  maxBatch?: number;
}

/**
 * Media -> calibrated probabilities. Platform-free: it receives a session built by web/ort.ts or node/ort.ts, and
 * images already decoded by that platform's decoder.
 */
export class Detector {
  readonly manifest: Manifest;
  /** manifest.json as loaded (the bundle's id is its sha256); unset for a detector built from a manifest object. */
  manifestBytes: Uint8Array | undefined;
  private readonly session: ModelSession;
  private readonly queue = new SerialQueue();
  private readonly maxBatch: number;

  constructor(manifest: Manifest, session: ModelSession, options: DetectorOptions = {}) {
    this.manifest = manifest;
    this.session = session;
    this.maxBatch = Math.max(1, options.maxBatch ?? 16);
  }

  get backend(): BackendInfo {
    return this.session.info;
  }

  get size(): number {
    return this.manifest.input.size;
  }

  /** The exact uint8 tensor (all crops, [n,3,S,S]) the model sees for an image. */
  tensorFor(image: RawImage): Uint8Array {
    return imageToTensor(image, this.size, this.manifest.crop);
  }

  /** Raw tensors in, calibrated probabilities out: the parity entry point shared with the training pipeline. */
  async classifyTensor(pixels: Uint8Array, batch: number): Promise<Probabilities[]> {
    const per = 3 * this.size * this.size;
    if (!Number.isInteger(batch) || batch < 1 || pixels.length !== batch * per) {
      throw new VeracityError(
        ErrorCode.InvalidImage,
        `expected ${batch} x 3 x ${this.size} x ${this.size} bytes, got ${pixels.length}`,
      );
    }
    const out: Probabilities[] = [];
    for (let at = 0; at < batch; at += this.maxBatch) {
      const n = Math.min(this.maxBatch, batch - at);
      const slice = pixels.subarray(at * per, (at + n) * per);
      const logits = await this.queue.run(() => this.session.run(slice, n, this.size));
      if (logits.length !== n * 3 || !logits.every(Number.isFinite)) {
        throw new VeracityError(
          ErrorCode.ModelOutput,
          `model returned ${logits.length} values (expected ${n * 3}) or non-finite logits`,
        );
      }
      for (let i = 0; i < n; i++) {
        out.push(calibrate(logits.subarray(i * 3, i * 3 + 3), this.manifest.calibration.temperature));
      }
    }
    return out;
  }

  async classifyImage(image: RawImage): Promise<ImageResult> {
    const [result] = await this.classifyImages([image]);
    return result as ImageResult;
  }

  /** Batch entry point: crops of all images go through the session together. */
  async classifyImages(images: RawImage[]): Promise<ImageResult[]> {
    if (images.length === 0) return [];
    const started = now();
    const crops = cropsPerImage(this.manifest.crop);
    const per = 3 * this.size * this.size;
    const tensor = new Uint8Array(images.length * crops * per);
    for (const [i, img] of images.entries()) tensor.set(this.tensorFor(img), i * crops * per);
    const probs = await this.classifyTensor(tensor, images.length * crops);
    const ms = (now() - started) / images.length;
    return images.map((_, i) => ({ ...verdict(meanProbabilities(probs.slice(i * crops, (i + 1) * crops))), ms }));
  }

  /** Video: one result per frame plus the clip's verdict by the bundle's aggregation rule. */
  async classifyFrames(frames: RawImage[]): Promise<FramesResult> {
    if (frames.length === 0) throw new VeracityError(ErrorCode.InvalidImage, 'a clip needs at least one frame');
    const results = await this.classifyImages(frames);
    const probabilities = aggregateFrames(
      results.map((r) => r.probabilities),
      this.manifest.video.aggregate,
    );
    return { ...verdict(probabilities), frames: results };
  }

  /** A challenge's decoded media by its modality: exactly one still, or a clip's frames (see classifyFrames). */
  async classifyMedia(media: RawImage[], modality: Modality): Promise<Verdict> {
    if (MODALITIES[modality].frames === 'many') return this.classifyFrames(media);
    if (media.length !== 1) {
      throw new VeracityError(ErrorCode.InvalidImage, `an ${modality} challenge is one image, got ${media.length}`);
    }
    return this.classifyImage(media[0]!);
  }

  async dispose(): Promise<void> {
    await this.queue.close(() => this.session.release());
  }
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** Builds a session with the platform's factory, reporting compile and warm-up as progress. */
export async function createDetector(
  bundle: Bundle,
  createSession: (model: Uint8Array, onProgress: ProgressCallback) => Promise<ModelSession>,
  onProgress: ProgressCallback = () => {},
  options: DetectorOptions = {},
): Promise<Detector> {
  const session = await createSession(bundle.model, onProgress);
  const detector = new Detector(bundle.manifest, session, options);
  detector.manifestBytes = bundle.manifestBytes;
  // The first run compiles kernels (WebGPU shaders take seconds); do it now, under a progress stage, not on the
  // user's first image.
  onProgress({ stage: 'warmup', backend: session.info.name });
  await detector.classifyTensor(new Uint8Array(3 * detector.size * detector.size), 1);
  onProgress({ stage: 'ready', backend: session.info.name });
  return detector;
}
