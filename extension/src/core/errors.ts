/**
 * Stable codes for what the extension refuses or fails at. UIs and tests switch on `code`; messages are for people.
 * Runtime failures (decode, backend, inference) keep the models/ codes (E_DECODE, E_NO_BACKEND, ...).
 */
export const ExtensionErrorCode = {
  SettingsInvalid: 'E_SETTINGS_INVALID',
  MessageInvalid: 'E_MESSAGE_INVALID',
  MediaUnreadable: 'E_MEDIA_UNREADABLE',
  MediaFetch: 'E_MEDIA_FETCH',
  /** The image's server refused a request without the user's cookies: the extension does not fetch as the user. */
  MediaNeedsLogin: 'E_MEDIA_NEEDS_LOGIN',
  ReportInvalid: 'E_REPORT_INVALID',
  NoTarget: 'E_NO_TARGET',
  Timeout: 'E_TIMEOUT',
  Internal: 'E_INTERNAL',
  // The network model (core/network/): every failure keeps the bundle in use and is shown with one of these.
  /** The chain endpoint could not be reached (connection refused, closed, not a WebSocket). */
  ChainUnreachable: 'E_CHAIN_UNREACHABLE',
  /** The chain did not answer a request in time. */
  ChainTimeout: 'E_CHAIN_TIMEOUT',
  /** The chain answered with an error or with storage the extension cannot decode (wrong netuid, not subtensor). */
  ChainData: 'E_CHAIN_DATA',
  /** No uid with incentive has published a bundle (pickNetworkModel's code). */
  NoPublishedModel: 'E_NO_PUBLISHED_MODEL',
  /** A bundle file could not be downloaded (HTTP error, connection). */
  BundleDownload: 'E_BUNDLE_DOWNLOAD',
  /** manifest.json as served is not the one committed on chain (its sha256 differs). */
  BundleDigest: 'E_BUNDLE_DIGEST',
  /** manifest.json is not valid against the bundle schema. */
  BundleManifest: 'E_BUNDLE_MANIFEST',
  /** The bundle weighs (or a server sends) more than MAX_BUNDLE_BYTES. */
  BundleTooLarge: 'E_BUNDLE_TOO_LARGE',
  /** A file's sha256 (or size) is not what the manifest says. */
  BundleFileSha256: 'E_BUNDLE_FILE_SHA256',
  /** The downloaded model failed the self-test on the images bundled with the extension. */
  BundleSelfTest: 'E_BUNDLE_SELF_TEST',
  /** The bundle could not be stored on (or read back from) this device. */
  BundleStore: 'E_BUNDLE_STORE',
} as const;
export type ExtensionErrorCode = (typeof ExtensionErrorCode)[keyof typeof ExtensionErrorCode];

export class ExtensionError extends Error {
  override readonly name = 'ExtensionError';
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** The code of any error that carries one (ours or the runtime's), E_INTERNAL otherwise. */
export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E_[A-Z0-9_]+$/.test(code) ? code : ExtensionErrorCode.Internal;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
