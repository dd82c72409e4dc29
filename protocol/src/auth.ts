import { hexToU8a, stringToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import { ErrorCode, type ProtocolError } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import {
  type AuthMessage,
  checkEnvelope,
  type HelloMessage,
  PROTOCOL_VERSION,
  type Validated,
  validateFields,
} from './messages.js';

/**
 * Handshake signatures. Both payloads are ASCII text, signed as its UTF-8 bytes with sr25519:
 *
 *   hello: veracity-hello:v<PROTOCOL_VERSION>:<netuid>:<validatorHotkey>:<nonce>:<timestamp>
 *   auth:  veracity-auth:v<PROTOCOL_VERSION>:<netuid>:<validatorHotkey>:<nonce>:<timestamp>
 *
 * netuid and timestamp in decimal without leading zeros, nonce as 64 lowercase hex digits, hotkeys in SS58.
 * The distinct prefixes keep a validator's hello signature from ever passing as a miner's auth (domain
 * separation); the nonce makes an auth good for one connection only; the validator hotkey and netuid make it
 * good for one validator on one subnet only; the timestamp bounds how long a captured auth is worth anything.
 *
 * A verifier accepts the signature over the raw payload or over `<Bytes>` + payload + `</Bytes>`, because the
 * polkadot-js extension's signRaw (which browser miners use: keys never leave the wallet) wraps what it signs.
 */

/** A 32-byte public key's holder: a @polkadot/keyring sr25519 KeyringPair satisfies it. */
export interface Signer {
  address: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface HandshakeContext {
  netuid: number;
  validatorHotkey: string;
  /** 64 lowercase hex digits, as sent in `hello`. */
  nonce: string;
}

/** Call once before verifying (it loads the WASM hashers; sr25519 itself is pure JS in @polkadot/util-crypto 14). */
export function cryptoReady(): Promise<boolean> {
  return cryptoWaitReady();
}

/** 32 random bytes from the platform CSPRNG (WebCrypto, present in browsers, workers and Node >= 20). */
export function newNonce(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
  return u8aToHex(bytes, -1, false);
}

export function helloPayloadText(ctx: HandshakeContext & { timestamp: number }): string {
  return `veracity-hello:v${PROTOCOL_VERSION}:${ctx.netuid}:${ctx.validatorHotkey}:${ctx.nonce}:${ctx.timestamp}`;
}

export function authPayloadText(ctx: HandshakeContext & { timestamp: number }): string {
  return `veracity-auth:v${PROTOCOL_VERSION}:${ctx.netuid}:${ctx.validatorHotkey}:${ctx.nonce}:${ctx.timestamp}`;
}

/** The exact bytes a miner signs (UTF-8 of authPayloadText). A wallet may sign `<Bytes>${text}</Bytes>` instead. */
export function authPayload(ctx: HandshakeContext & { timestamp: number }): Uint8Array {
  return stringToU8a(authPayloadText(ctx));
}

export function helloPayload(ctx: HandshakeContext & { timestamp: number }): Uint8Array {
  return stringToU8a(helloPayloadText(ctx));
}

/** The validator's first frame: signs a fresh nonce with its hotkey so miners know whom they are talking to. */
export function signHello(validator: Signer, opts: { netuid: number; timestamp: number; nonce?: string }): HelloMessage {
  const nonce = opts.nonce ?? newNonce();
  const ctx = { netuid: opts.netuid, validatorHotkey: validator.address, nonce, timestamp: opts.timestamp };
  return {
    v: PROTOCOL_VERSION,
    type: 'hello',
    validatorHotkey: validator.address,
    netuid: opts.netuid,
    nonce,
    timestamp: opts.timestamp,
    signature: u8aToHex(validator.sign(helloPayload(ctx))),
  };
}

/** The miner's reply to a hello (already checked with verifyHello), signed with the miner's hotkey. */
export function signAuth(
  miner: Signer,
  hello: HandshakeContext,
  timestamp: number,
  declare: { bundleSha256?: string } = {},
): AuthMessage {
  const ctx = { netuid: hello.netuid, validatorHotkey: hello.validatorHotkey, nonce: hello.nonce, timestamp };
  const auth: AuthMessage = {
    v: PROTOCOL_VERSION,
    type: 'auth',
    hotkey: miner.address,
    timestamp,
    signature: u8aToHex(miner.sign(authPayload(ctx))),
  };
  if (declare.bundleSha256 !== undefined) auth.bundleSha256 = declare.bundleSha256;
  return auth;
}

/** How the signature was made: over the raw payload, or over the wallet's `<Bytes>`-wrapped payload. */
export type SignatureForm = 'raw' | 'wrapped';

export type VerifyResult = { ok: true; hotkey: string; form: SignatureForm } | { ok: false; error: ProtocolError };

/** ±30 s: generous for NTP-less home machines, short enough that a captured auth is useless soon after. */
export const DEFAULT_MAX_SKEW_MS = 30_000;

/** Which form of `payload` the signature covers, or undefined when neither verifies. Never throws. */
export function verifySignature(payload: Uint8Array, signatureHex: string, address: string): SignatureForm | undefined {
  try {
    const publicKey = decodeAddress(address);
    const signature = hexToU8a(signatureHex);
    if (publicKey.length !== 32 || signature.length !== 64) return undefined;
    if (sr25519Verify(payload, signature, publicKey)) return 'raw';
    if (sr25519Verify(u8aWrapBytes(payload), signature, publicKey)) return 'wrapped';
  } catch {
    // Malformed key or signature: not verified.
  }
  return undefined;
}

/** Re-validates a message the caller may have built or parsed itself: verification must not trust its input's shape. */
function validated<T>(type: 'auth' | 'hello', value: unknown): Validated<T> {
  const envelope = checkEnvelope(value);
  if (!envelope.ok) return envelope;
  if (envelope.type !== type)
    return { ok: false, error: { code: ErrorCode.BadMessage, message: `expected ${type}, got ${envelope.type}` } };
  return validateFields<T>(type, value as Record<string, unknown>, DEFAULT_LIMITS);
}

const refuse = (code: ErrorCode, message: string): VerifyResult => ({ ok: false, error: { code, message } });

function staleness(timestamp: number, now: number, maxSkewMs: number): string | undefined {
  const skew = timestamp - now;
  if (!(Math.abs(skew) <= maxSkewMs)) {
    return `timestamp ${timestamp} is ${Math.abs(skew)} ms ${skew < 0 ? 'behind' : 'ahead of'} this peer's clock (allowed ±${maxSkewMs} ms)`;
  }
  return undefined;
}

export interface VerifyAuthInput extends HandshakeContext {
  auth: AuthMessage;
  /** The verifier's clock, epoch ms (injected: the module reads no clock). */
  now: number;
  maxSkewMs?: number;
}

/**
 * The validator's check of a miner's `auth` against the hello it sent on this connection. Fields first
 * (E_BAD_MESSAGE), then the clock window (E_STALE_TIMESTAMP, cheap, before any curve arithmetic), then the
 * signature (E_AUTH_FAILED). Whether the hotkey is registered (E_UNREGISTERED_HOTKEY) is the caller's metagraph check.
 */
export function verifyAuth(input: VerifyAuthInput): VerifyResult {
  const fields = validated<AuthMessage>('auth', input.auth);
  if (!fields.ok) return fields;
  const auth = fields.value;
  const stale = staleness(auth.timestamp, input.now, input.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  if (stale !== undefined) return refuse(ErrorCode.StaleTimestamp, `auth ${stale}`);
  const form = verifySignature(authPayload({ ...input, timestamp: auth.timestamp }), auth.signature, auth.hotkey);
  if (form === undefined) {
    return refuse(ErrorCode.AuthFailed, `auth signature does not verify for ${auth.hotkey} over this connection's nonce`);
  }
  return { ok: true, hotkey: auth.hotkey, form };
}

export interface VerifyHelloInput {
  hello: HelloMessage;
  now: number;
  maxSkewMs?: number;
  /** The subnet the miner serves; a hello for another is E_WRONG_NETWORK. */
  netuid: number;
  /**
   * Which validators the miner accepts (for example those with a validator permit on the metagraph): a hotkey or a
   * predicate. Omitted = any validator whose signature verifies.
   */
  validator?: string | ((hotkey: string) => boolean);
}

/** The miner's check of a validator's `hello`: right subnet and validator, fresh, and signed by that validator. */
export function verifyHello(input: VerifyHelloInput): VerifyResult {
  const fields = validated<HelloMessage>('hello', input.hello);
  if (!fields.ok) return fields;
  const hello = fields.value;
  if (hello.netuid !== input.netuid) {
    return refuse(ErrorCode.WrongNetwork, `hello is for netuid ${hello.netuid}, this miner serves ${input.netuid}`);
  }
  const accepted =
    input.validator === undefined ||
    (typeof input.validator === 'string' ? input.validator === hello.validatorHotkey : input.validator(hello.validatorHotkey));
  if (!accepted) return refuse(ErrorCode.WrongNetwork, `validator ${hello.validatorHotkey} is not one this miner accepts`);
  const stale = staleness(hello.timestamp, input.now, input.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  if (stale !== undefined) return refuse(ErrorCode.StaleTimestamp, `hello ${stale}`);
  const form = verifySignature(helloPayload(hello), hello.signature, hello.validatorHotkey);
  if (form === undefined) return refuse(ErrorCode.AuthFailed, `hello signature does not verify for ${hello.validatorHotkey}`);
  return { ok: true, hotkey: hello.validatorHotkey, form };
}
