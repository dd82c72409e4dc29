import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthMessage,
  authPayload,
  authPayloadText,
  cryptoReady,
  ErrorCode,
  helloPayloadText,
  newNonce,
  signAuth,
  signHello,
  verifyAuth,
  verifyHello,
  verifySignature,
} from './index.js';

type Pair = ReturnType<Keyring['addFromUri']>;
let alice: Pair; // the validator
let bob: Pair; // the miner
let charlie: Pair; // someone else
const NETUID = 34;
const T0 = 1767225600000;
const NONCE = 'ab'.repeat(32);

beforeAll(async () => {
  await cryptoReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
  charlie = keyring.addFromUri('//Charlie');
});

const ctx = () => ({ netuid: NETUID, validatorHotkey: alice.address, nonce: NONCE });
const verify = (auth: AuthMessage, overrides: Partial<Parameters<typeof verifyAuth>[0]> = {}) =>
  verifyAuth({ auth, ...ctx(), now: T0, ...overrides });

describe('signed payloads', () => {
  it('are exactly the documented strings', () => {
    expect(authPayloadText({ ...ctx(), timestamp: T0 })).toBe(
      `veracity-auth:v2:34:5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY:${NONCE}:1767225600000`,
    );
    expect(helloPayloadText({ ...ctx(), timestamp: T0 })).toBe(
      `veracity-hello:v2:34:5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY:${NONCE}:1767225600000`,
    );
    expect(authPayload({ ...ctx(), timestamp: T0 })).toEqual(stringToU8a(authPayloadText({ ...ctx(), timestamp: T0 })));
  });

  it('newNonce gives 32 fresh random bytes as 64 lowercase hex digits', () => {
    const a = newNonce();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newNonce()).not.toBe(a);
  });
});

describe('verifyAuth', () => {
  it('accepts a real //Bob signature over the raw payload', () => {
    const auth = signAuth(bob, ctx(), T0);
    expect(auth.signature).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verify(auth)).toEqual({ ok: true, hotkey: bob.address, form: 'raw' });
  });

  it('accepts the <Bytes>-wrapped form that polkadot-js extension signRaw produces', () => {
    const payload = authPayload({ ...ctx(), timestamp: T0 });
    const wrapped = u8aWrapBytes(payload);
    expect(new TextDecoder().decode(wrapped)).toBe(`<Bytes>${authPayloadText({ ...ctx(), timestamp: T0 })}</Bytes>`);
    const auth: AuthMessage = { v: 2, type: 'auth', hotkey: bob.address, timestamp: T0, signature: u8aToHex(bob.sign(wrapped)) };
    expect(verify(auth)).toEqual({ ok: true, hotkey: bob.address, form: 'wrapped' });
  });

  it('accepts timestamps within ±30 s and refuses them outside with E_STALE_TIMESTAMP', () => {
    const auth = signAuth(bob, ctx(), T0);
    expect(verify(auth, { now: T0 + 30_000 }).ok).toBe(true);
    expect(verify(auth, { now: T0 - 30_000 }).ok).toBe(true);
    expect(verify(auth, { now: T0 + 30_001 })).toMatchObject({ ok: false, error: { code: ErrorCode.StaleTimestamp } });
    expect(verify(auth, { now: T0 - 30_001 })).toMatchObject({ ok: false, error: { code: ErrorCode.StaleTimestamp } });
    expect(verify(auth, { now: T0 + 5_000, maxSkewMs: 1_000 })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.StaleTimestamp },
    });
    expect(verify(auth, { now: Number.NaN })).toMatchObject({ ok: false, error: { code: ErrorCode.StaleTimestamp } });
  });

  it('refuses a signature made for another nonce, netuid, validator or timestamp with E_AUTH_FAILED', () => {
    const refused = { ok: false, error: { code: ErrorCode.AuthFailed } };
    expect(verify(signAuth(bob, { ...ctx(), nonce: 'cd'.repeat(32) }, T0))).toMatchObject(refused);
    expect(verify(signAuth(bob, { ...ctx(), netuid: 35 }, T0))).toMatchObject(refused);
    expect(verify(signAuth(bob, { ...ctx(), validatorHotkey: charlie.address }, T0))).toMatchObject(refused);
    // Signed at T0, claims T0 + 1: the timestamp is inside the signature.
    expect(verify({ ...signAuth(bob, ctx(), T0), timestamp: T0 + 1 })).toMatchObject(refused);
  });

  it('refuses a tampered signature, a signature by another key, and a hello signature replayed as an auth', () => {
    const refused = { ok: false, error: { code: ErrorCode.AuthFailed } };
    const auth = signAuth(bob, ctx(), T0);
    const last = auth.signature.at(-1) === '0' ? '1' : '0';
    expect(verify({ ...auth, signature: auth.signature.slice(0, -1) + last })).toMatchObject(refused);
    expect(verify({ ...auth, hotkey: charlie.address })).toMatchObject(refused);
    // Domain separation: the validator's hello signature over the same fields is not a valid auth for the validator.
    const hello = signHello(alice, { netuid: NETUID, timestamp: T0, nonce: NONCE });
    expect(verify({ v: 2, type: 'auth', hotkey: alice.address, timestamp: T0, signature: hello.signature })).toMatchObject(
      refused,
    );
    // A signature of the wrapped form of a *different* payload must not pass either.
    const otherWrapped = u8aWrapBytes(stringToU8a('veracity-auth:v2:34:x:y:1'));
    expect(verify({ ...auth, signature: u8aToHex(bob.sign(otherWrapped)) })).toMatchObject(refused);
  });

  it('refuses a malformed auth with E_BAD_MESSAGE instead of throwing', () => {
    const auth = signAuth(bob, ctx(), T0);
    expect(verify({ ...auth, signature: '0x1234' })).toMatchObject({ ok: false, error: { code: ErrorCode.BadMessage } });
    expect(verify({ ...auth, hotkey: 'nope' })).toMatchObject({ ok: false, error: { code: ErrorCode.BadMessage } });
    expect(verify(null as unknown as AuthMessage)).toMatchObject({ ok: false, error: { code: ErrorCode.BadMessage } });
  });

  it('verifySignature never throws on garbage', () => {
    const payload = new Uint8Array([1, 2, 3]);
    expect(verifySignature(payload, 'zz', bob.address)).toBeUndefined();
    expect(verifySignature(payload, `0x${'00'.repeat(64)}`, 'not an address')).toBeUndefined();
    expect(verifySignature(payload, `0x${'00'.repeat(64)}`, bob.address)).toBeUndefined();
  });
});

describe('verifyHello', () => {
  it('accepts a real //Alice hello, and refuses each way it can be wrong with its own code', () => {
    const hello = signHello(alice, { netuid: NETUID, timestamp: T0 });
    expect(hello.nonce).toMatch(/^[0-9a-f]{64}$/);
    const base = { hello, now: T0, netuid: NETUID };
    expect(verifyHello(base)).toEqual({ ok: true, hotkey: alice.address, form: 'raw' });
    expect(verifyHello({ ...base, validator: alice.address }).ok).toBe(true);
    expect(verifyHello({ ...base, validator: (h) => h === alice.address }).ok).toBe(true);
    expect(verifyHello({ ...base, netuid: 35 })).toMatchObject({ ok: false, error: { code: ErrorCode.WrongNetwork } });
    expect(verifyHello({ ...base, validator: charlie.address })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.WrongNetwork },
    });
    expect(verifyHello({ ...base, now: T0 + 60_000 })).toMatchObject({ ok: false, error: { code: ErrorCode.StaleTimestamp } });
    expect(verifyHello({ ...base, hello: { ...hello, nonce: 'cd'.repeat(32) } })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.AuthFailed },
    });
    expect(verifyHello({ ...base, hello: { ...hello, validatorHotkey: charlie.address } })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.AuthFailed },
    });
  });

  it('a full handshake round trip: hello -> verifyHello -> signAuth -> verifyAuth', () => {
    const hello = signHello(alice, { netuid: NETUID, timestamp: T0 });
    expect(verifyHello({ hello, now: T0 + 100, netuid: NETUID }).ok).toBe(true);
    const auth = signAuth(bob, hello, T0 + 150);
    const result = verifyAuth({ auth, netuid: NETUID, validatorHotkey: alice.address, nonce: hello.nonce, now: T0 + 200 });
    expect(result).toEqual({ ok: true, hotkey: bob.address, form: 'raw' });
  });
});
