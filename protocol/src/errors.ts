/**
 * Stable error codes of the wire protocol. Peers switch on `code` (in `error` messages, decode results and logs),
 * never on message text, so messages can improve without breaking a miner written in another language.
 * A code is never reused for a different meaning; new codes may be added within a protocol version.
 */
export const ErrorCode = {
  /** Not JSON, not an object, a field missing or of the wrong type or range. */
  BadMessage: 'E_BAD_MESSAGE',
  /** `type` is not one this version defines. */
  UnknownType: 'E_UNKNOWN_TYPE',
  /** `v` is an integer but not one this peer speaks. */
  UnsupportedVersion: 'E_UNSUPPORTED_VERSION',
  /** A well-formed message that this peer must not send, or not now (an `answer` before `welcome`, a second `auth`). */
  UnexpectedMessage: 'E_UNEXPECTED_MESSAGE',
  /** A frame (text or binary) over the negotiated limit; checked on the byte length before any parsing. */
  TooLarge: 'E_TOO_LARGE',
  /** A binary media frame whose layout is broken (truncated length prefix, header not UTF-8 JSON, empty payload). */
  BadFrame: 'E_BAD_FRAME',
  /** A media frame whose index is not the next one expected, or a challenge sent before the previous one's media. */
  FrameOrder: 'E_FRAME_ORDER',
  /** More media frames than the challenge announced, or a challenge announcing more than the limit. */
  TooManyFrames: 'E_TOO_MANY_FRAMES',
  /** A media frame or answer naming a challenge id the receiver does not have (never sent, already answered, expired). */
  UnknownChallenge: 'E_UNKNOWN_CHALLENGE',
  /** A challenge id that is already in use. */
  DuplicateChallenge: 'E_DUPLICATE_CHALLENGE',
  /** An answer whose probabilities are not three numbers in [0,1] summing to 1 within 1e-6. */
  BadProbabilities: 'E_BAD_PROBABILITIES',
  /** An answer that arrived after the challenge deadline; it is not scored. */
  LateAnswer: 'E_LATE_ANSWER',
  /** A second answer to the same challenge; only the first counts. */
  DuplicateAnswer: 'E_DUPLICATE_ANSWER',
  /**
   * Miner -> validator, in an `error` whose `ref` is a challenge id: the miner will not answer it (over its own rate
   * cap, its model failed). The validator closes that miner's slot at once, scored as unanswered, instead of
   * holding the round until the deadline.
   */
  Declined: 'E_DECLINED',
  /**
   * Miner -> validator, in an `error` whose `ref` is a challenge id: a `reveal` item does not hash to the commitment
   * the challenge came with, or names a challenge the miner never received. Non-fatal: it is evidence, logged and
   * counted by the validator, and the miner's page shows it.
   */
  RevealMismatch: 'E_REVEAL_MISMATCH',
  /** A signature that does not verify for the claimed hotkey over the canonical payload. */
  AuthFailed: 'E_AUTH_FAILED',
  /** A signed timestamp outside the verifier's clock window (default ±30 s): refused so signatures cannot be replayed. */
  StaleTimestamp: 'E_STALE_TIMESTAMP',
  /** The `hello` is for another subnet or another validator than the one the miner meant to dial. */
  WrongNetwork: 'E_WRONG_NETWORK',
  /** The hotkey is not registered on the subnet's metagraph (the validator decides this, not the protocol module). */
  UnregisteredHotkey: 'E_UNREGISTERED_HOTKEY',
  /** Too many connections or messages from one hotkey or address. */
  RateLimited: 'E_RATE_LIMITED',
  /**
   * The peer does not read what it is sent: more bytes wait in its send queue than the sender's budget allows (a
   * miner that stopped reading would otherwise grow the validator's memory without bound).
   */
  SlowReader: 'E_SLOW_READER',
  /** The peer stayed silent longer than the heartbeat timeout. */
  HeartbeatTimeout: 'E_HEARTBEAT_TIMEOUT',
  /** The miner did not send a valid `auth` in time after `hello`. */
  HandshakeTimeout: 'E_HANDSHAKE_TIMEOUT',
  /** The same hotkey connected again; the older connection is closed. */
  Replaced: 'E_REPLACED',
  /** The validator is shutting down; reconnect later with backoff. */
  Shutdown: 'E_SHUTDOWN',
  /** A bug or resource failure on the sender's side; not the peer's fault. */
  Internal: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What every failing decode or verify returns: data, not an exception, so hostile input never unwinds a socket loop. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

/**
 * WebSocket close codes (RFC 6455 leaves 4000-4999 to applications). A close code tells the peer why the connection
 * ended and whether reconnecting can help: 4002/4004 will fail again until the miner fixes its key or registration;
 * 4003 usually means a skewed clock; 4006/4008/4009 mean reconnect later with backoff.
 */
export const CloseCode = {
  /** Standard: orderly close (after `bye`). */
  Normal: 1000,
  /** Standard, sent by the `ws` library itself when a frame exceeds its `maxPayload` transport cap. */
  TransportTooLarge: 1009,
  /** Standard: unexpected condition on the sender's side. */
  Internal: 1011,
  ProtocolViolation: 4000,
  UnsupportedVersion: 4001,
  AuthFailed: 4002,
  StaleTimestamp: 4003,
  UnregisteredHotkey: 4004,
  TooLarge: 4005,
  RateLimited: 4006,
  HeartbeatTimeout: 4007,
  Replaced: 4008,
  Shutdown: 4009,
  HandshakeTimeout: 4010,
  SlowReader: 4011,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Which errors end the connection and with which close code. Codes absent here are non-fatal: the receiver answers
 * with an `error` message (`ref` = the challenge id) and keeps the connection, because one bad answer should cost
 * that answer's score, not a reconnect.
 */
const FATAL: Partial<Record<ErrorCode, CloseCode>> = {
  [ErrorCode.BadMessage]: CloseCode.ProtocolViolation,
  [ErrorCode.UnknownType]: CloseCode.ProtocolViolation,
  [ErrorCode.UnexpectedMessage]: CloseCode.ProtocolViolation,
  [ErrorCode.BadFrame]: CloseCode.ProtocolViolation,
  [ErrorCode.FrameOrder]: CloseCode.ProtocolViolation,
  [ErrorCode.TooManyFrames]: CloseCode.ProtocolViolation,
  [ErrorCode.DuplicateChallenge]: CloseCode.ProtocolViolation,
  [ErrorCode.UnsupportedVersion]: CloseCode.UnsupportedVersion,
  [ErrorCode.AuthFailed]: CloseCode.AuthFailed,
  [ErrorCode.WrongNetwork]: CloseCode.AuthFailed,
  [ErrorCode.StaleTimestamp]: CloseCode.StaleTimestamp,
  [ErrorCode.UnregisteredHotkey]: CloseCode.UnregisteredHotkey,
  [ErrorCode.TooLarge]: CloseCode.TooLarge,
  [ErrorCode.RateLimited]: CloseCode.RateLimited,
  [ErrorCode.SlowReader]: CloseCode.SlowReader,
  [ErrorCode.HeartbeatTimeout]: CloseCode.HeartbeatTimeout,
  [ErrorCode.Replaced]: CloseCode.Replaced,
  [ErrorCode.Shutdown]: CloseCode.Shutdown,
  [ErrorCode.HandshakeTimeout]: CloseCode.HandshakeTimeout,
  [ErrorCode.Internal]: CloseCode.Internal,
};

/** The close code for a fatal error, or undefined when the error is reported with an `error` message instead. */
export function closeCodeFor(code: ErrorCode): CloseCode | undefined {
  return FATAL[code];
}

/**
 * Errors that cost one message, not the connection, once the session is open (after `welcome`): a malformed message
 * from an authenticated miner (a negative `ms`, a `NaN` literal, an over-long error text) is answered with an
 * `error` naming it, like a bad answer, because a miner with a codec bug should lose that answer's score, not its
 * session. Before `welcome` they stay fatal: an unauthenticated peer gets nothing but the handshake.
 */
const NON_FATAL_IN_SESSION: ReadonlySet<ErrorCode> = new Set([ErrorCode.BadMessage, ErrorCode.BadProbabilities]);

/** The close code for an error received from an authenticated peer, or undefined when it is answered with `error`. */
export function closeCodeInSession(code: ErrorCode): CloseCode | undefined {
  return NON_FATAL_IN_SESSION.has(code) ? undefined : closeCodeFor(code);
}

/** RFC 6455 caps a close reason at 123 UTF-8 bytes, and `ws` throws on longer ones: a long message must not crash the closer. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Close code and a reason safe to pass to `ws.close()` / `WebSocket.close()`: `<code>: <message>` cut to 123 bytes. */
export function closeFrameFor(error: ProtocolError): { code: CloseCode; reason: string } {
  return {
    code: closeCodeFor(error.code) ?? CloseCode.ProtocolViolation,
    reason: truncateUtf8(`${error.code}: ${error.message}`),
  };
}

export function truncateUtf8(text: string, maxBytes = MAX_CLOSE_REASON_BYTES): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  // Iterating by code point never splits a surrogate pair, so the result is always valid UTF-8.
  for (const ch of text) {
    const n = encoder.encode(ch).length;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Thrown only for programmer errors on the sending side (encoding an invalid message); decoders never throw. */
export class ProtocolException extends Error {
  override readonly name = 'ProtocolException';
  readonly code: ErrorCode;

  constructor(error: ProtocolError) {
    super(`${error.code}: ${error.message}`);
    this.code = error.code;
  }
}

export function fail(code: ErrorCode, message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: { code, message } };
}
