/**
 * Stable error codes for everything the runtime can refuse. Callers (extension, miner, validator, CLIs) switch on
 * `code`, never on message text, so messages can improve without breaking anyone.
 */
export const ErrorCode = {
  ManifestInvalid: 'E_MANIFEST_INVALID',
  Sha256Mismatch: 'E_SHA256_MISMATCH',
  BundleFetch: 'E_BUNDLE_FETCH',
  /** A bundle (manifest.json + model) heavier than its loader's cap (published bundles: 10 MiB). */
  BundleTooLarge: 'E_BUNDLE_TOO_LARGE',
  NoBackend: 'E_NO_BACKEND',
  Decode: 'E_DECODE',
  InvalidImage: 'E_INVALID_IMAGE',
  Inference: 'E_INFERENCE',
  ModelOutput: 'E_MODEL_OUTPUT',
  /** A dataset sources file (or one of its rows) is unusable: missing columns, bad hash, unsafe path. */
  SourcesInvalid: 'E_SOURCES_INVALID',
  /** A dataset file could not be obtained: HTTP error, transport failure after retries, missing mirror file. */
  Fetch: 'E_FETCH',
  /** The output folder could not be written. */
  Write: 'E_WRITE',
  /** Work handed to a detector after (or queued when) it was disposed. */
  Disposed: 'E_DISPOSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class VeracityError extends Error {
  override readonly name = 'VeracityError';
  readonly code: ErrorCode;
  /** Structured detail for logs and UIs (for example every backend failure when none starts). */
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export function isVeracityError(error: unknown, code?: ErrorCode): error is VeracityError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'VeracityError' &&
    (code === undefined || (error as { code?: unknown }).code === code)
  );
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
