import { decodeAddress } from '@polkadot/util-crypto';
import { ErrorCode, type ProtocolError } from './errors.js';
import { LABELS, type Label, type Modality, MODALITY_NAMES } from './domain.js';
import type { Limits } from './limits.js';

/** The version every message carries in `v`. A peer refuses other versions with E_UNSUPPORTED_VERSION / close 4001. */
export const PROTOCOL_VERSION = 2 as const;

/** Bittensor hotkeys are sr25519 public keys in SS58 with the generic Substrate prefix 42 (addresses start with 5). */
export const SS58_PREFIX = 42;

/** |sum - 1| allowed for answer probabilities: float32 softmax outputs sum to 1 only within a few ulps. */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;

/** Media types a challenge may carry. Video challenges send sampled frames as images, or one whole short clip. */
export const MEDIA_MIME_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'video/mp4', 'video/webm'] as const;
export type MediaMime = (typeof MEDIA_MIME_TYPES)[number];

export type Role = 'validator' | 'miner';

interface Base {
  v: typeof PROTOCOL_VERSION;
}

/** Validator -> miner, first frame of every connection: a fresh nonce, signed by the validator's hotkey. */
export interface HelloMessage extends Base {
  type: 'hello';
  validatorHotkey: string;
  netuid: number;
  /** 32 random bytes as 64 lowercase hex digits, no 0x. */
  nonce: string;
  /** Validator clock, epoch milliseconds. */
  timestamp: number;
  /** sr25519 signature of helloPayload(), 0x + 128 hex digits. */
  signature: string;
}

/** Miner -> validator, the answer to `hello`: proves the miner holds its hotkey's secret. */
export interface AuthMessage extends Base {
  type: 'auth';
  hotkey: string;
  /** Miner clock, epoch milliseconds; signed, and must be within the validator's skew window. */
  timestamp: number;
  /** sr25519 signature of authPayload() (raw or <Bytes>-wrapped), 0x + 128 hex digits. */
  signature: string;
  /**
   * sha256 of the bundle the miner answers with (64 lowercase hex digits), optional: a declaration the validator checks
   * against the miner's on-chain model commitment (model-commitment.ts). Not covered by the signature: it only
   * claims, the chain record is what counts, and a miner that declares what it did not publish is scored as
   * unpublished.
   */
  bundleSha256?: string;
}

/** Validator -> miner after a good `auth`: the session is open. */
export interface WelcomeMessage extends Base {
  type: 'welcome';
  sessionId: string;
  /** The miner's uid on the subnet, when the validator knows it. */
  uid?: number;
  /** How often the validator pings; a peer silent for 3x this is dead. */
  heartbeatMs: number;
  /** The limits the validator enforces and sends within. */
  limits: Limits;
}

/** Validator -> miner; followed immediately by `frames` binary media frames, index 0..frames-1. */
export interface ChallengeMessage extends Base {
  type: 'challenge';
  id: string;
  modality: Modality;
  /** How many binary media frames follow (exactly 1 for images). */
  frames: number;
  /** Absolute deadline on the validator's clock (epoch ms); answers after it are not scored. */
  deadlineMs: number;
  /** The same deadline as a budget from when the validator sent the challenge, for miners whose clock is skewed. */
  timeoutMs: number;
  /**
   * sha256 over the challenge id, its label and a secret salt (commitmentPayload in commitment.ts), 64 lowercase hex
   * digits: the label is fixed now and shown later, in a `reveal`, so a miner can audit its scoring without the
   * label ever reaching it while the answer still counts.
   */
  commitment: string;
}

/** Miner -> validator. */
export interface AnswerMessage extends Base {
  type: 'answer';
  id: string;
  /** [real, synthetic, semisynthetic], each in [0,1], summing to 1 within 1e-6. */
  probabilities: [number, number, number];
  /** Miner-measured inference time, for diagnostics only. */
  ms?: number;
}

/**
 * Validator -> miner, optional, after the deadline: a receipt of what the validator recorded. It carries nothing that
 * gives the label away (v1's label/score/correct did: a miner collected labelled pairs for free); the label comes
 * later, in a `reveal`.
 */
export interface ResultMessage extends Base {
  type: 'result';
  id: string;
  /** How the answer was recorded: in time, missing (timeout or declined), or invalid. */
  outcome?: AnswerOutcome;
  /** Latency the validator measured from sending the challenge to receiving the answer. */
  ms?: number;
}

export const ANSWER_OUTCOMES = ['ok', 'timeout', 'invalid'] as const;
export type AnswerOutcome = (typeof ANSWER_OUTCOMES)[number];

/** One revealed challenge: its label and the salt its commitment was made with. */
export interface RevealItem {
  id: string;
  label: Label;
  /** 32 random bytes as 64 lowercase hex digits, secret until this reveal. */
  salt: string;
}

/** Most items one `reveal` carries (at ~170 bytes each, 256 stay well inside the 64 KiB text limit). */
export const MAX_REVEAL_ITEMS = 256;

/**
 * Validator -> miner, after each reveal window: the labels and salts of the challenges this miner was sent in it,
 * in one message (several when over MAX_REVEAL_ITEMS). The miner checks each against the commitment it received.
 */
export interface RevealMessage extends Base {
  type: 'reveal';
  /** Names the window, for logs and audits on both sides. */
  window: string;
  items: RevealItem[];
}

/** Either side; the receiver answers with a `pong` echoing `seq` and `t`. */
export interface PingMessage extends Base {
  type: 'ping';
  seq: number;
  /** Sender's clock at send time, epoch ms; echoed so the sender computes RTT without keeping state. */
  t: number;
}

export interface PongMessage extends Base {
  type: 'pong';
  seq: number;
  t: number;
}

/** Either side, non-fatal problems (a bad or late answer). Fatal ones close the socket with a close code instead. */
export interface ErrorMessage extends Base {
  type: 'error';
  /** An ErrorCode; typed as string because a newer peer may send codes this one does not know. */
  code: string;
  message: string;
  /** The challenge id (or other message id) the error is about. */
  ref?: string;
}

/** Either side, optional, right before an orderly close (1000 or 4009). */
export interface ByeMessage extends Base {
  type: 'bye';
  reason?: string;
}

/** Every text (JSON) message: a discriminated union on `type`. */
export type Message =
  | HelloMessage
  | AuthMessage
  | WelcomeMessage
  | ChallengeMessage
  | AnswerMessage
  | ResultMessage
  | RevealMessage
  | PingMessage
  | PongMessage
  | ErrorMessage
  | ByeMessage;
export type MessageType = Message['type'];

/** The JSON header of a binary media frame (see codec.ts for the byte layout). */
export interface MediaHeader extends Base {
  type: 'media';
  challengeId: string;
  index: number;
  count: number;
  mime: MediaMime;
}

/** Who may send each type; anything else from that role is E_UNEXPECTED_MESSAGE. */
export const SENT_BY: Readonly<Record<MessageType, readonly Role[]>> = {
  hello: ['validator'],
  auth: ['miner'],
  welcome: ['validator'],
  challenge: ['validator'],
  answer: ['miner'],
  result: ['validator'],
  reveal: ['validator'],
  ping: ['validator', 'miner'],
  pong: ['validator', 'miner'],
  error: ['validator', 'miner'],
  bye: ['validator', 'miner'],
};

// ---------------------------------------------------------------------------------------------------------------
// Hand-written validation. No JSON Schema engine: ajv compiles with `new Function`, which MV3 extension pages'
// CSP forbids, and a table of small checks is easy to port to a miner in another language.

/** A problem phrase, or one with its own code when it is more specific than E_BAD_MESSAGE. */
type Problem = string | { code: ErrorCode; text: string };
type Check = (value: unknown, limits: Limits) => Problem | undefined;

interface Field {
  key: string;
  check: Check;
  optional?: boolean;
  /** The code to report when this is the only kind of problem (else E_BAD_MESSAGE). */
  code?: ErrorCode;
  /** Rebuilds nested objects in canonical key order. */
  canon?: (value: never) => unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const intIn =
  (min: number, max: number): Check =>
  (v) =>
    isInt(v) && v >= min && v <= max ? undefined : `must be an integer in ${min}..${max}`;
const nonNegative: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a finite number >= 0';
const matches =
  (re: RegExp, what: string): Check =>
  (v) =>
    typeof v === 'string' && re.test(v) ? undefined : `must be ${what}`;
const text =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length <= max ? undefined : `must be a string of at most ${max} characters`;
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.map((x) => `"${x}"`).join(', ')}`;

/** Epoch milliseconds: positive, and below year ~2255 so arithmetic on it stays exact. */
const timestamp = intIn(1, 2 ** 43);
/** Challenge ids and session ids: short, URL- and log-safe. */
const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const id = matches(ID_RE, 'an id of 1-64 characters from [A-Za-z0-9._:-]');
const nonce = matches(/^[0-9a-f]{64}$/, '64 lowercase hex digits (32 bytes, no 0x)');
const hex32 = matches(/^[0-9a-f]{64}$/, '64 lowercase hex digits (32 bytes, no 0x)');
const signature = matches(/^0x[0-9a-fA-F]{128}$/, '0x followed by 128 hex digits (a 64-byte sr25519 signature)');

/** Miner -> validator: "I will not answer challenge `id`" (E_DECLINED, see ErrorCode.Declined). */
export function declineFor(id: string, message: string): ErrorMessage {
  return { v: PROTOCOL_VERSION, type: 'error', code: ErrorCode.Declined, message, ref: id };
}

/** An SS58 (prefix 42) address of a 32-byte public key, checksum verified. */
export function isHotkey(v: unknown): v is string {
  if (typeof v !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{46,48}$/.test(v)) return false;
  try {
    return decodeAddress(v, false, SS58_PREFIX).length === 32;
  } catch {
    return false;
  }
}
const hotkey: Check = (v) => (isHotkey(v) ? undefined : `must be an SS58 address (prefix ${SS58_PREFIX}) of a 32-byte key`);

/** Returns the problem with an answer's probability vector, or undefined when it is valid. */
export function probabilitiesProblem(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length !== LABELS.length) {
    return `must be an array of ${LABELS.length} numbers [${LABELS.join(', ')}]`;
  }
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const p: unknown = v[i];
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) return `[${i}] must be a number in [0, 1]`;
    sum += p;
  }
  if (!(Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE)) {
    return `must sum to 1 within ${PROBABILITY_SUM_TOLERANCE} (sums to ${sum})`;
  }
  return undefined;
}

const LIMIT_KEYS = ['maxTextBytes', 'maxMediaBytes', 'maxFrames'] as const;
const limitsCheck: Check = (v) => {
  if (!isObject(v)) return 'must be an object {maxTextBytes, maxMediaBytes, maxFrames}';
  const bad = LIMIT_KEYS.filter((k) => !(isInt(v[k]) && (v[k] as number) > 0));
  return bad.length > 0 ? `${bad.join(', ')} must be positive integers` : undefined;
};
const canonLimits = (v: Limits): Limits => ({
  maxTextBytes: v.maxTextBytes,
  maxMediaBytes: v.maxMediaBytes,
  maxFrames: v.maxFrames,
});

const label = oneOf(LABELS);
const revealItemsCheck: Check = (v, limits) => {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_REVEAL_ITEMS)
    return `must be an array of 1..${MAX_REVEAL_ITEMS} items {id, label, salt}`;
  const seen = new Set<string>();
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (!isObject(item)) return `[${i}] must be an object {id, label, salt}`;
    const problem = id(item.id, limits) ?? label(item.label, limits);
    if (problem !== undefined) return `[${i}] ${problem}`;
    if (hex32(item.salt, limits) !== undefined) return `[${i}].salt must be 64 lowercase hex digits`;
    if (seen.has(item.id as string)) return `[${i}].id ${String(item.id)} is revealed twice`;
    seen.add(item.id as string);
  }
  return undefined;
};
const canonRevealItems = (v: RevealItem[]): RevealItem[] => v.map((x) => ({ id: x.id, label: x.label, salt: x.salt }));

const framesCheck: Check = (v, limits) => {
  if (!isInt(v) || v < 1) return 'must be a positive integer';
  return v > limits.maxFrames
    ? { code: ErrorCode.TooManyFrames, text: `${v} exceeds the limit of ${limits.maxFrames} media frames` }
    : undefined;
};

/** Field tables in canonical order: encode() writes keys in exactly this order, which makes encoding deterministic. */
const FIELDS: Record<MessageType | 'media', Field[]> = {
  hello: [
    { key: 'validatorHotkey', check: hotkey },
    { key: 'netuid', check: intIn(0, 65535) },
    { key: 'nonce', check: nonce },
    { key: 'timestamp', check: timestamp },
    { key: 'signature', check: signature },
  ],
  auth: [
    { key: 'hotkey', check: hotkey },
    { key: 'timestamp', check: timestamp },
    { key: 'signature', check: signature },
    { key: 'bundleSha256', check: hex32, optional: true },
  ],
  welcome: [
    { key: 'sessionId', check: id },
    { key: 'uid', check: intIn(0, 65535), optional: true },
    { key: 'heartbeatMs', check: intIn(1000, 600_000) },
    { key: 'limits', check: limitsCheck, canon: canonLimits },
  ],
  challenge: [
    { key: 'id', check: id },
    { key: 'modality', check: oneOf(MODALITY_NAMES) },
    { key: 'frames', check: framesCheck },
    { key: 'deadlineMs', check: timestamp },
    { key: 'timeoutMs', check: intIn(1, 3_600_000) },
    { key: 'commitment', check: hex32 },
  ],
  answer: [
    { key: 'id', check: id },
    { key: 'probabilities', check: probabilitiesProblem, code: ErrorCode.BadProbabilities, canon: (p: number[]) => [...p] },
    { key: 'ms', check: nonNegative, optional: true },
  ],
  result: [
    { key: 'id', check: id },
    { key: 'outcome', check: oneOf(ANSWER_OUTCOMES), optional: true },
    { key: 'ms', check: intIn(0, 3_600_000), optional: true },
  ],
  reveal: [
    { key: 'window', check: id },
    { key: 'items', check: revealItemsCheck, canon: canonRevealItems },
  ],
  ping: [
    { key: 'seq', check: intIn(0, Number.MAX_SAFE_INTEGER) },
    { key: 't', check: timestamp },
  ],
  pong: [
    { key: 'seq', check: intIn(0, Number.MAX_SAFE_INTEGER) },
    { key: 't', check: timestamp },
  ],
  error: [
    { key: 'code', check: matches(/^E_[A-Z0-9_]{1,60}$/, 'an error code like E_BAD_MESSAGE') },
    { key: 'message', check: text(1024) },
    { key: 'ref', check: text(128), optional: true },
  ],
  bye: [{ key: 'reason', check: text(256), optional: true }],
  media: [
    { key: 'challengeId', check: id },
    { key: 'index', check: intIn(0, Number.MAX_SAFE_INTEGER) },
    { key: 'count', check: framesCheck },
    { key: 'mime', check: oneOf(MEDIA_MIME_TYPES) },
  ],
};

/** Rules that span fields, checked once every field is individually valid. */
function crossProblems(type: MessageType | 'media', m: Record<string, unknown>): string[] {
  if (type === 'challenge' && m.modality === 'image' && m.frames !== 1) return ['frames must be 1 for an image challenge'];
  if (type === 'media') {
    const problems: string[] = [];
    if ((m.index as number) >= (m.count as number)) problems.push(`index ${m.index} must be below count ${m.count}`);
    if (String(m.mime).startsWith('video/') && m.count !== 1) problems.push('a video/* payload must be the only frame (count 1)');
    return problems;
  }
  return [];
}

export const MESSAGE_TYPES = Object.keys(SENT_BY) as MessageType[];

export type Validated<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/**
 * Validates the fields of an already-parsed object whose `v` and `type` are known good, and returns a fresh object
 * in canonical key order without unknown fields (receivers ignore unknown fields so a version can grow optional ones).
 * Every problem is listed in one error, so whoever wrote the sender fixes them all in one pass.
 */
export function validateFields<T>(type: MessageType | 'media', value: Record<string, unknown>, limits: Limits): Validated<T> {
  const fields = FIELDS[type];
  const problems: string[] = [];
  const codes = new Set<ErrorCode>();
  const out: Record<string, unknown> = { v: PROTOCOL_VERSION, type };
  for (const field of fields) {
    const raw = Object.prototype.hasOwnProperty.call(value, field.key) ? value[field.key] : undefined;
    if (raw === undefined) {
      if (!field.optional) {
        problems.push(`${field.key} is required`);
        codes.add(ErrorCode.BadMessage);
      }
      continue;
    }
    const problem = field.check(raw, limits);
    if (problem !== undefined) {
      problems.push(`${field.key} ${typeof problem === 'string' ? problem : problem.text}`);
      codes.add(typeof problem === 'string' ? (field.code ?? ErrorCode.BadMessage) : problem.code);
      continue;
    }
    out[field.key] = field.canon ? field.canon(raw as never) : raw;
  }
  if (problems.length === 0) problems.push(...crossProblems(type, out));
  if (problems.length > 0) {
    // A specific code (E_BAD_PROBABILITIES, E_TOO_MANY_FRAMES) only when it is the sole kind of problem.
    const [only] = codes;
    const code = codes.size === 1 && only !== undefined ? only : ErrorCode.BadMessage;
    return { ok: false, error: { code, message: `bad ${type}: ${problems.join('; ')}` } };
  }
  return { ok: true, value: out as T };
}

/** Checks `v` and `type` of a parsed value; the shared first step of text and binary decoding. */
export function checkEnvelope(value: unknown): { ok: true; type: string } | { ok: false; error: ProtocolError } {
  if (!isObject(value)) return { ok: false, error: { code: ErrorCode.BadMessage, message: 'a message must be a JSON object' } };
  if (!isInt(value.v)) return { ok: false, error: { code: ErrorCode.BadMessage, message: 'v must be an integer' } };
  if (value.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: {
        code: ErrorCode.UnsupportedVersion,
        message: `version ${value.v} is not supported (this peer speaks ${PROTOCOL_VERSION})`,
      },
    };
  }
  if (typeof value.type !== 'string')
    return { ok: false, error: { code: ErrorCode.BadMessage, message: 'type must be a string' } };
  return { ok: true, type: value.type };
}
