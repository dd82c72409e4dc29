import { FRAME_AGGREGATES, type FrameAggregate, isThreshold, LABELS } from '@veracity/protocol/domain';
import { ErrorCode, VeracityError } from './errors.js';

export type CropSpec =
  | { policy: 'resize-center' }
  | { policy: 'squash' }
  | { policy: 'native-center'; maxSide?: number }
  | { policy: 'native-five'; maxSide?: number };

export interface VideoSpec {
  /** How many frames to sample from a clip. */
  frames: number;
  sampling: 'uniform';
  /** How per-frame probabilities become the clip's: their mean, or the frame most confident it is AI. */
  aggregate: FrameAggregate;
}

/** How logits become probabilities, and where the bundle's own verdict turns to AI. */
export interface Calibration {
  method: 'temperature';
  /** probabilities = softmax(logits / temperature) */
  temperature: number;
  /**
   * The operating point (see isThreshold in @veracity/protocol/domain): P(AI) at or above which the bundle's verdict
   * is AI; chosen at export as the (1 - thresholdFpr) quantile of its validation real photos' calibrated P(AI).
   * Absent in bundles made before operating points: their verdicts use DEFAULT_THRESHOLD.
   */
  threshold?: number;
  /** The false-positive rate on validation real photos `threshold` was chosen for (e.g. 0.05). */
  thresholdFpr?: number;
}

/** manifest.json of a bundle; `manifest.schema.json` is the same contract as JSON Schema. */
export interface Manifest {
  schema: 1;
  id: string;
  version: string;
  created?: string;
  /** The recipe that made the bundle, relative to the repository root (models/train/recipes/VERSION.json). */
  recipe?: string;
  model: { file: string; sha256: string; bytes: number; opset?: number };
  input: { name: string; output: string; size: number; layout: 'NCHW'; dtype: 'uint8' };
  labels: typeof LABELS;
  calibration: Calibration;
  crop: CropSpec;
  video: VideoSpec;
  metrics: Record<string, unknown>;
  training?: Record<string, unknown>;
}

const CROP_POLICIES = ['resize-center', 'squash', 'native-center', 'native-five'];
const MAX_INPUT_SIZE = 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks an untrusted manifest and returns it typed, or throws one E_MANIFEST_INVALID listing every problem with
 * its JSON path, so a bundle author fixes everything in one pass.
 */
export function parseManifest(value: unknown): Manifest {
  const problems: string[] = [];
  const need = (ok: boolean, path: string, what: string) => {
    if (!ok) problems.push(`${path} ${what}`);
  };
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  const posInt = (v: unknown, max = Number.MAX_SAFE_INTEGER) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= max;

  if (!isObject(value)) throw new VeracityError(ErrorCode.ManifestInvalid, 'manifest is not a JSON object');
  need(value.schema === 1, 'schema', 'must be 1');
  need(str(value.id), 'id', 'must be a non-empty string');
  need(str(value.version), 'version', 'must be a non-empty string');
  need(value.created === undefined || str(value.created), 'created', 'must be a string when present');

  const model = value.model;
  if (isObject(model)) {
    need(str(model.file) && !String(model.file).includes('..'), 'model.file', 'must be a relative file name');
    need(
      typeof model.sha256 === 'string' && /^[0-9a-f]{64}$/.test(model.sha256),
      'model.sha256',
      'must be 64 lowercase hex digits',
    );
    need(posInt(model.bytes), 'model.bytes', 'must be a positive integer');
    need(model.opset === undefined || posInt(model.opset), 'model.opset', 'must be a positive integer when present');
  } else problems.push('model must be an object');

  const input = value.input;
  if (isObject(input)) {
    need(str(input.name), 'input.name', 'must be a non-empty string');
    need(str(input.output), 'input.output', 'must be a non-empty string');
    need(posInt(input.size, MAX_INPUT_SIZE), 'input.size', `must be an integer in 1..${MAX_INPUT_SIZE}`);
    need(input.layout === 'NCHW', 'input.layout', 'must be "NCHW"');
    need(input.dtype === 'uint8', 'input.dtype', 'must be "uint8"');
  } else problems.push('input must be an object');

  need(
    Array.isArray(value.labels) &&
      value.labels.length === LABELS.length &&
      LABELS.every((l, i) => (value.labels as unknown[])[i] === l),
    'labels',
    `must be exactly ${JSON.stringify(LABELS)}`,
  );

  const cal = value.calibration;
  if (isObject(cal)) {
    need(cal.method === 'temperature', 'calibration.method', 'must be "temperature"');
    need(
      typeof cal.temperature === 'number' && Number.isFinite(cal.temperature) && cal.temperature > 0,
      'calibration.temperature',
      'must be a finite number > 0',
    );
    need(
      cal.threshold === undefined || isThreshold(cal.threshold),
      'calibration.threshold',
      'must be a number in (0, 1) when present',
    );
    need(
      cal.thresholdFpr === undefined || (isThreshold(cal.thresholdFpr) && cal.threshold !== undefined),
      'calibration.thresholdFpr',
      'must be a number in (0, 1), only beside calibration.threshold',
    );
  } else problems.push('calibration must be an object');

  const crop = value.crop;
  if (isObject(crop)) {
    need(CROP_POLICIES.includes(crop.policy as string), 'crop.policy', `must be one of ${CROP_POLICIES.join(', ')}`);
    const native = crop.policy === 'native-center' || crop.policy === 'native-five';
    need(
      crop.maxSide === undefined || (native && posInt(crop.maxSide)),
      'crop.maxSide',
      'must be a positive integer, only for native policies',
    );
  } else problems.push('crop must be an object');

  const video = value.video;
  if (isObject(video)) {
    need(posInt(video.frames, 64), 'video.frames', 'must be an integer in 1..64');
    need(video.sampling === 'uniform', 'video.sampling', 'must be "uniform"');
    need(
      FRAME_AGGREGATES.includes(video.aggregate as FrameAggregate),
      'video.aggregate',
      `must be one of ${FRAME_AGGREGATES.map((a) => `"${a}"`).join(', ')}`,
    );
  } else problems.push('video must be an object');

  need(isObject(value.metrics), 'metrics', 'must be an object');
  need(value.training === undefined || isObject(value.training), 'training', 'must be an object when present');
  need(
    value.recipe === undefined || (typeof value.recipe === 'string' && value.recipe.length > 0 && !value.recipe.includes('..')),
    'recipe',
    'must be a non-empty path inside the repository when present',
  );

  if (problems.length > 0) {
    throw new VeracityError(ErrorCode.ManifestInvalid, `bad manifest: ${problems.join('; ')}`, { details: problems });
  }
  return value as unknown as Manifest;
}

/** A result the bundle measured on a labelled test set: ranking AUC (0.5 = chance) over `n` items. */
export interface MeasuredAuc {
  auc: number;
  n: number;
}

/**
 * The bundle's own video test (`metrics.video_clips.overall`, which export_detector.py copies from veracity-eval's
 * `videos` section), or null when the bundle has none or it is malformed. Apps read it to decide how far a video
 * score can be trusted: the detector is trained on images, and a clip score is only as good as this test says.
 */
export function videoClipEvidence(manifest: Pick<Manifest, 'metrics'>): MeasuredAuc | null {
  const clips = manifest.metrics.video_clips;
  const overall = isObject(clips) ? clips.overall : undefined;
  if (!isObject(overall)) return null;
  const { auc, n } = overall;
  if (typeof auc !== 'number' || !(auc >= 0 && auc <= 1)) return null;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return null;
  return { auc, n };
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto exists in every browser context (secure origins, workers, extensions) and in Node >= 20 as a global.
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Refuses model bytes that are not exactly the file the manifest names. */
export async function verifyModelBytes(manifest: Manifest, bytes: Uint8Array): Promise<void> {
  if (bytes.length !== manifest.model.bytes) {
    throw new VeracityError(
      ErrorCode.Sha256Mismatch,
      `${manifest.model.file} has ${bytes.length} bytes, the manifest says ${manifest.model.bytes}: the download is truncated or the bundle is mixed up`,
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== manifest.model.sha256) {
    throw new VeracityError(
      ErrorCode.Sha256Mismatch,
      `${manifest.model.file} has sha256 ${actual}, the manifest says ${manifest.model.sha256}: refusing a model that is not the one published`,
      { details: { expected: manifest.model.sha256, actual } },
    );
  }
}
