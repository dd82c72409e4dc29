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
