import { describe, expect, it } from 'vitest';
import {
  closeCodeFor,
  closeCodeInSession,
  closeFrameFor,
  CloseCode,
  decodeBinary,
  decodeText,
  DEFAULT_LIMITS,
  encode,
  encodeMedia,
  ErrorCode,
  frameTooLarge,
  MAX_REVEAL_ITEMS,
  type Message,
  ProtocolException,
  truncateUtf8,
  utf8Length,
} from './index.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const SIG = `0x${'ab'.repeat(64)}`;
const NONCE = 'ab'.repeat(32);

/** Valid messages of every type; each invalid case below breaks exactly one thing in one of these. */
const VALID: Record<Message['type'], Record<string, unknown>> = {
  hello: { v: 2, type: 'hello', validatorHotkey: ALICE, netuid: 34, nonce: NONCE, timestamp: 1767225600000, signature: SIG },
  auth: { v: 2, type: 'auth', hotkey: ALICE, timestamp: 1767225600000, signature: SIG },
  welcome: { v: 2, type: 'welcome', sessionId: 's1', heartbeatMs: 15000, limits: { ...DEFAULT_LIMITS } },
  challenge: {
    v: 2,
    type: 'challenge',
    id: 'c1',
    modality: 'video',
    frames: 16,
    deadlineMs: 1767225612000,
    timeoutMs: 10000,
    commitment: 'cd'.repeat(32),
  },
  answer: { v: 2, type: 'answer', id: 'c1', probabilities: [0.2, 0.3, 0.5] },
  result: { v: 2, type: 'result', id: 'c1' },
  reveal: { v: 2, type: 'reveal', window: 'w-1', items: [{ id: 'c1', label: 'real', salt: 'ef'.repeat(32) }] },
  ping: { v: 2, type: 'ping', seq: 0, t: 1767225600000 },
  pong: { v: 2, type: 'pong', seq: 0, t: 1767225600000 },
  error: { v: 2, type: 'error', code: 'E_SOMETHING_NEW', message: '' },
  bye: { v: 2, type: 'bye' },
};

const decode = (value: unknown) => decodeText(JSON.stringify(value));
const codeOf = (value: unknown) => {
  const r = decode(value);
  return r.ok ? 'ok' : r.error.code;
};
const withField = (type: Message['type'], key: string, value: unknown) => ({ ...VALID[type], [key]: value });

describe('decodeText: envelope', () => {
  it.each(Object.keys(VALID))('accepts a minimal valid %s', (type) => {
    expect(decode(VALID[type as Message['type']])).toMatchObject({ ok: true, message: { type } });
  });

  it.each([
    ['not JSON', '{"v":2,', ErrorCode.BadMessage],
    ['empty', '', ErrorCode.BadMessage],
    ['an array', '[1,"answer"]', ErrorCode.BadMessage],
    ['null', 'null', ErrorCode.BadMessage],
    ['a number', '1', ErrorCode.BadMessage],
    ['no v', '{"type":"ping","seq":0,"t":1}', ErrorCode.BadMessage],
    ['v as a string', '{"v":"1","type":"ping","seq":0,"t":1}', ErrorCode.BadMessage],
    ['v 3', '{"v":3,"type":"ping","seq":0,"t":1}', ErrorCode.UnsupportedVersion],
    ['v 0', '{"v":0,"type":"ping","seq":0,"t":1}', ErrorCode.UnsupportedVersion],
    ['v 3 with a type v2 lacks', '{"v":3,"type":"stream"}', ErrorCode.UnsupportedVersion],
    ['unknown type', '{"v":2,"type":"gossip"}', ErrorCode.UnknownType],
    ['type media in text', '{"v":2,"type":"media"}', ErrorCode.UnknownType],
    ['type missing', '{"v":2}', ErrorCode.BadMessage],
    ['type not a string', '{"v":2,"type":7}', ErrorCode.BadMessage],
    ['__proto__ type', '{"v":2,"type":"__proto__"}', ErrorCode.UnknownType],
    ['toString type', '{"v":2,"type":"toString"}', ErrorCode.UnknownType],
  ])('refuses %s', (_name, text, code) => {
    expect(decodeText(text)).toMatchObject({ ok: false, error: { code } });
  });

  it('refuses non-string input without throwing', () => {
    for (const input of [undefined, null, 42, {}, new Uint8Array(3)]) {
      expect(decodeText(input)).toMatchObject({ ok: false, error: { code: ErrorCode.BadMessage } });
    }
  });

  it('refuses text over maxTextBytes before parsing, counting UTF-8 bytes, not characters', () => {
    const limits = { ...DEFAULT_LIMITS, maxTextBytes: 64 };
    const ping = '{"v":2,"type":"ping","seq":0,"t":1767225600000}'; // 47 bytes
    expect(decodeText(ping, limits).ok).toBe(true);
    expect(decodeText(ping + ' '.repeat(17), limits).ok).toBe(true); // exactly 64 bytes
    expect(decodeText(ping + ' '.repeat(18), limits)).toMatchObject({ ok: false, error: { code: ErrorCode.TooLarge } });
    // Four three-byte characters: 66 bytes in 58 characters, too large although .length < 64.
    const wide = ping.replace('}', `,"x":"${'€'.repeat(4)}"}`);
    expect(wide.length).toBeLessThan(64);
    expect(utf8Length(wide)).toBeGreaterThan(64);
    expect(decodeText(wide, limits)).toMatchObject({ ok: false, error: { code: ErrorCode.TooLarge } });
    // Garbage that is too large is refused as too large, not as bad JSON: the size check comes first.
    expect(decodeText('x'.repeat(DEFAULT_LIMITS.maxTextBytes + 1))).toMatchObject({
      ok: false,
      error: { code: ErrorCode.TooLarge },
    });
  });

  it('enforces who may send what when told the sender', () => {
    expect(decodeText(JSON.stringify(VALID.challenge), DEFAULT_LIMITS, { from: 'miner' })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.UnexpectedMessage },
    });
    expect(decodeText(JSON.stringify(VALID.answer), DEFAULT_LIMITS, { from: 'validator' })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.UnexpectedMessage },
    });
    expect(decodeText(JSON.stringify(VALID.answer), DEFAULT_LIMITS, { from: 'miner' }).ok).toBe(true);
    expect(decodeText(JSON.stringify(VALID.ping), DEFAULT_LIMITS, { from: 'miner' }).ok).toBe(true);
  });

  it('drops unknown fields (receivers ignore them, so v1 can grow optional fields)', () => {
    const r = decode({ ...VALID.ping, extra: { deep: true } });
    expect(r).toEqual({ ok: true, message: { v: 2, type: 'ping', seq: 0, t: 1767225600000 } });
  });

  it('lists every problem of a message in one error', () => {
    const r = decode({ v: 2, type: 'challenge', id: '', modality: 'audio', frames: 0 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(ErrorCode.BadMessage);
    for (const field of [
      'id',
      'modality',
      'frames',
      'deadlineMs is required',
      'timeoutMs is required',
      'commitment is required',
    ]) {
      expect(r.error.message).toContain(field);
    }
  });
});

describe('decodeText: answer probabilities', () => {
  const answer = (probabilities: unknown) => withField('answer', 'probabilities', probabilities);

  it.each([
    ['exactly one-hot', [1, 0, 0]],
    ['uniform thirds (sum 0.9999999999999999... within tolerance)', [1 / 3, 1 / 3, 1 / 3]],
    ['sum 1.0000009 (just inside the tolerance)', [0.5000009, 0.25, 0.25]],
    ['sum 0.9999991', [0.4999991, 0.25, 0.25]],
    ['float32 softmax output', [Math.fround(0.1), Math.fround(0.2), Math.fround(0.7)]],
  ])('accepts %s', (_name, p) => {
    expect(codeOf(answer(p))).toBe('ok');
  });

  it.each([
    ['summing to 1.000002', [0.500002, 0.25, 0.25]],
    ['summing to 0.999998', [0.499998, 0.25, 0.25]],
    ['summing to 2', [1, 1, 0]],
    ['a negative probability (still summing to 1)', [-0.1, 0.6, 0.5]],
    ['a probability above 1 (still summing to 1)', [1.5, -0.25, -0.25]],
    ['two labels', [0.5, 0.5]],
    ['four labels', [0.25, 0.25, 0.25, 0.25]],
    ['an empty array', []],
    ['a string number', ['0.2', 0.3, 0.5]],
    ['null (what JSON makes of NaN)', [null, 0.5, 0.5]],
    ['an object', { real: 1 }],
    ['a number', 1],
  ])('refuses %s with E_BAD_PROBABILITIES', (_name, p) => {
    expect(codeOf(answer(p))).toBe(ErrorCode.BadProbabilities);
  });

  it('refuses NaN and Infinity when encoding (JSON cannot carry them, so only a local bug produces them)', () => {
    for (const p of [
      [Number.NaN, 0.5, 0.5],
      [Number.POSITIVE_INFINITY, 0, 0],
    ]) {
      const message = answer(p) as unknown as Message;
      expect(() => encode(message)).toThrow(ProtocolException);
      try {
        encode(message);
      } catch (error) {
        expect((error as ProtocolException).code).toBe(ErrorCode.BadProbabilities);
      }
    }
  });

  it('says E_BAD_MESSAGE, not E_BAD_PROBABILITIES, when other fields are broken too', () => {
    expect(codeOf({ ...answer([2, 0, 0]), id: '' })).toBe(ErrorCode.BadMessage);
  });

  it('checks ms when present', () => {
    expect(codeOf(withField('answer', 'ms', 12.5))).toBe('ok');
    expect(codeOf(withField('answer', 'ms', -1))).toBe(ErrorCode.BadMessage);
    expect(codeOf(withField('answer', 'ms', '12'))).toBe(ErrorCode.BadMessage);
  });
});

describe('decodeText: every field', () => {
  // [type, field, bad value, expected code]: one row per rule, values hand-picked at the edges.
  const cases: [Message['type'], string, unknown, string][] = [
    ['hello', 'validatorHotkey', undefined, ErrorCode.BadMessage],
    ['hello', 'validatorHotkey', '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ', ErrorCode.BadMessage], // checksum
    ['hello', 'validatorHotkey', 'HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F', ErrorCode.BadMessage], // Kusama prefix 2
    ['hello', 'validatorHotkey', `0x${'00'.repeat(32)}`, ErrorCode.BadMessage],
    ['hello', 'netuid', -1, ErrorCode.BadMessage],
    ['hello', 'netuid', 65536, ErrorCode.BadMessage],
    ['hello', 'netuid', 34.5, ErrorCode.BadMessage],
    ['hello', 'netuid', '34', ErrorCode.BadMessage],
    ['hello', 'nonce', 'AB'.repeat(32), ErrorCode.BadMessage], // uppercase
    ['hello', 'nonce', `0x${'ab'.repeat(32)}`, ErrorCode.BadMessage],
    ['hello', 'nonce', 'ab'.repeat(31), ErrorCode.BadMessage],
    ['hello', 'timestamp', 0, ErrorCode.BadMessage],
    ['hello', 'timestamp', 1767225600000.5, ErrorCode.BadMessage],
    ['hello', 'timestamp', 2 ** 43 + 1, ErrorCode.BadMessage],
    ['hello', 'signature', 'ab'.repeat(64), ErrorCode.BadMessage], // no 0x
    ['hello', 'signature', `0x${'ab'.repeat(63)}`, ErrorCode.BadMessage],
    ['hello', 'signature', `0x${'zz'.repeat(64)}`, ErrorCode.BadMessage],
    ['auth', 'hotkey', 'not-an-address', ErrorCode.BadMessage],
    ['auth', 'timestamp', '1767225600000', ErrorCode.BadMessage],
    ['auth', 'signature', null, ErrorCode.BadMessage],
    ['welcome', 'sessionId', '', ErrorCode.BadMessage],
    ['welcome', 'sessionId', 'has space', ErrorCode.BadMessage],
    ['welcome', 'sessionId', 'x'.repeat(65), ErrorCode.BadMessage],
    ['welcome', 'uid', -1, ErrorCode.BadMessage],
    ['welcome', 'heartbeatMs', 999, ErrorCode.BadMessage],
    ['welcome', 'heartbeatMs', 600_001, ErrorCode.BadMessage],
    ['welcome', 'limits', null, ErrorCode.BadMessage],
    ['welcome', 'limits', { maxTextBytes: 1, maxMediaBytes: 1 }, ErrorCode.BadMessage],
    ['welcome', 'limits', { maxTextBytes: 0, maxMediaBytes: 1, maxFrames: 1 }, ErrorCode.BadMessage],
    ['challenge', 'id', 'c/1', ErrorCode.BadMessage],
    ['challenge', 'modality', 'audio', ErrorCode.BadMessage],
    ['challenge', 'frames', 0, ErrorCode.BadMessage],
    ['challenge', 'frames', 17, ErrorCode.TooManyFrames],
    ['challenge', 'deadlineMs', -5, ErrorCode.BadMessage],
    ['challenge', 'timeoutMs', 0, ErrorCode.BadMessage],
    ['challenge', 'timeoutMs', 3_600_001, ErrorCode.BadMessage],
    ['answer', 'id', 42, ErrorCode.BadMessage],
    ['challenge', 'commitment', undefined, ErrorCode.BadMessage],
    ['challenge', 'commitment', 'CD'.repeat(32), ErrorCode.BadMessage],
    ['challenge', 'commitment', 'cd'.repeat(31), ErrorCode.BadMessage],
    ['result', 'outcome', 'correct', ErrorCode.BadMessage],
    ['result', 'ms', 1.5, ErrorCode.BadMessage],
    ['reveal', 'window', '', ErrorCode.BadMessage],
    ['reveal', 'items', [], ErrorCode.BadMessage],
    ['reveal', 'items', undefined, ErrorCode.BadMessage],
    ['reveal', 'items', [{ id: 'c1', label: 'fake', salt: 'ef'.repeat(32) }], ErrorCode.BadMessage],
    ['reveal', 'items', [{ id: 'c1', label: 'real', salt: 'ef'.repeat(31) }], ErrorCode.BadMessage],
    ['reveal', 'items', [{ id: 'c 1', label: 'real', salt: 'ef'.repeat(32) }], ErrorCode.BadMessage],
    ['reveal', 'items', ['c1'], ErrorCode.BadMessage],
    [
      'reveal',
      'items',
      [
        { id: 'c1', label: 'real', salt: 'ef'.repeat(32) },
        { id: 'c1', label: 'synthetic', salt: 'ef'.repeat(32) },
      ],
      ErrorCode.BadMessage,
    ],
    [
      'reveal',
      'items',
      Array.from({ length: MAX_REVEAL_ITEMS + 1 }, (_, i) => ({ id: `c${i}`, label: 'real', salt: 'ef'.repeat(32) })),
      ErrorCode.BadMessage,
    ],
    ['ping', 'seq', -1, ErrorCode.BadMessage],
    ['ping', 't', undefined, ErrorCode.BadMessage],
    ['pong', 'seq', 1.5, ErrorCode.BadMessage],
    ['error', 'code', 'BAD', ErrorCode.BadMessage],
    ['error', 'code', 'E_lower', ErrorCode.BadMessage],
    ['error', 'message', 'x'.repeat(1025), ErrorCode.BadMessage],
    ['error', 'message', 5, ErrorCode.BadMessage],
    ['error', 'ref', 'x'.repeat(129), ErrorCode.BadMessage],
    ['bye', 'reason', 'x'.repeat(257), ErrorCode.BadMessage],
    ['bye', 'reason', false, ErrorCode.BadMessage],
  ];
  it.each(cases)('%s.%s = %j is refused with %s', (type, key, value, code) => {
    const message = { ...VALID[type] };
    if (value === undefined) delete message[key];
    else message[key] = value;
    expect(codeOf(message)).toBe(code);
  });

  it('requires exactly one frame for an image challenge', () => {
    expect(codeOf({ ...VALID.challenge, modality: 'image', frames: 2 })).toBe(ErrorCode.BadMessage);
    expect(codeOf({ ...VALID.challenge, modality: 'image', frames: 1 })).toBe('ok');
  });

  it('uses the given limits for the frame count', () => {
    expect(decodeText(JSON.stringify(VALID.challenge), { ...DEFAULT_LIMITS, maxFrames: 8 })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.TooManyFrames },
    });
  });

  it('accepts all optional fields of result and welcome', () => {
    expect(codeOf({ ...VALID.result, outcome: 'timeout', ms: 0 })).toBe('ok');
    // v1's label-bearing fields are gone: a v2 receiver drops them like any unknown field.
    expect(decode({ ...VALID.result, label: 'real', correct: true })).toEqual({ ok: true, message: VALID.result });
    expect(codeOf({ ...VALID.welcome, uid: 0 })).toBe('ok');
  });
});

describe('encode', () => {
  it('writes keys in canonical order whatever the object order, without unknown fields', () => {
    const shuffled = { t: 5, seq: 1, type: 'ping', v: 2, junk: 1 } as unknown as Message;
    expect(encode(shuffled)).toBe('{"v":2,"type":"ping","seq":1,"t":5}');
    const welcome = { ...VALID.welcome, limits: { maxFrames: 16, maxMediaBytes: 1, maxTextBytes: 2 } } as unknown as Message;
    expect(encode(welcome)).toContain('"limits":{"maxTextBytes":2,"maxMediaBytes":1,"maxFrames":16}');
  });

  it('throws ProtocolException on invalid messages (sending one is a local bug)', () => {
    expect(() => encode({ ...VALID.ping, v: 3 } as unknown as Message)).toThrow(/E_UNSUPPORTED_VERSION/);
    expect(() => encode({ v: 2, type: 'nope' } as unknown as Message)).toThrow(/E_UNKNOWN_TYPE/);
    expect(() => encode({ ...VALID.ping, seq: -1 } as unknown as Message)).toThrow(/E_BAD_MESSAGE/);
    expect(() =>
      encode({ v: 2, type: 'error', code: 'E_X', message: 'x'.repeat(1000) }, { ...DEFAULT_LIMITS, maxTextBytes: 100 }),
    ).toThrow(/E_TOO_LARGE/);
  });

  it('round-trips every valid sample', () => {
    for (const value of Object.values(VALID)) {
      const text = encode(value as unknown as Message);
      const r = decodeText(text);
      expect(r.ok && encode(r.message)).toBe(text);
    }
  });
});

describe('binary media frames', () => {
  const data = new Uint8Array([1, 2, 3, 4, 5]);
  const init = { challengeId: 'c1', index: 0, count: 1, mime: 'image/jpeg' as const };
  const frame = encodeMedia(init, data);
  const headerLength = new DataView(frame.buffer).getUint32(0, false);
  /** A frame with an arbitrary header object, bypassing encodeMedia's checks. */
  const raw = (header: unknown, payload: Uint8Array = data) => {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(4 + h.length + payload.length);
    new DataView(out.buffer).setUint32(0, h.length, false);
    out.set(h, 4);
    out.set(payload, 4 + h.length);
    return out;
  };

  it('lays out [u32 BE header length][UTF-8 JSON header][payload]', () => {
    const header = new TextDecoder().decode(frame.subarray(4, 4 + headerLength));
    expect(header).toBe('{"v":2,"type":"media","challengeId":"c1","index":0,"count":1,"mime":"image/jpeg"}');
    expect(Array.from(frame.subarray(4 + headerLength))).toEqual([1, 2, 3, 4, 5]);
    expect(frame.length).toBe(4 + headerLength + 5);
  });

  it('decodes Uint8Array, Buffer, ArrayBuffer and unaligned views alike, returning a view of the payload', () => {
    const offset = new Uint8Array(frame.length + 3);
    offset.set(frame, 3);
    for (const input of [frame, Buffer.from(frame), frame.slice().buffer, offset.subarray(3)]) {
      const r = decodeBinary(input);
      expect(r.ok).toBe(true);
      if (r.ok) expect(Array.from(r.frame.data)).toEqual([1, 2, 3, 4, 5]);
    }
  });

  const bad: [string, Uint8Array | unknown, string][] = [
    ['a string', 'hello', ErrorCode.BadFrame],
    ['empty', new Uint8Array(0), ErrorCode.BadFrame],
    ['a truncated length prefix', new Uint8Array([0, 0, 0]), ErrorCode.BadFrame],
    ['a header length past the end', frame.subarray(0, 4 + headerLength - 1), ErrorCode.BadFrame],
    ['a header length of 0', new Uint8Array([0, 0, 0, 0, 1, 2]), ErrorCode.BadFrame],
    ['a header length over 1024', new Uint8Array([0, 0, 4, 1, ...new Uint8Array(1100)]), ErrorCode.BadFrame],
    ['a header length of 2^32-1', new Uint8Array([255, 255, 255, 255, 1]), ErrorCode.BadFrame],
    ['no payload', frame.subarray(0, 4 + headerLength), ErrorCode.BadFrame],
    ['a header that is not JSON', new Uint8Array([0, 0, 0, 2, 0x7b, 0x7b, 1]), ErrorCode.BadFrame],
    ['a header that is invalid UTF-8', new Uint8Array([0, 0, 0, 4, 0x22, 0xff, 0xfe, 0x22, 1]), ErrorCode.BadFrame],
    ['a header for v3', raw({ ...init, v: 3, type: 'media' }), ErrorCode.UnsupportedVersion],
    ['a JSON message type in binary', raw({ v: 2, type: 'answer' }), ErrorCode.UnknownType],
    ['a header that is an array', raw([1]), ErrorCode.BadMessage],
    ['index >= count', raw({ v: 2, type: 'media', ...init, index: 1 }), ErrorCode.BadMessage],
    ['count over the limit', raw({ v: 2, type: 'media', ...init, count: 17 }), ErrorCode.TooManyFrames],
    ['an unknown mime', raw({ v: 2, type: 'media', ...init, mime: 'text/html' }), ErrorCode.BadMessage],
    [
      'a video/* payload among several frames',
      raw({ v: 2, type: 'media', ...init, count: 2, mime: 'video/mp4' }),
      ErrorCode.BadMessage,
    ],
  ];
  it.each(bad)('refuses %s', (_name, input, code) => {
    expect(decodeBinary(input)).toMatchObject({ ok: false, error: { code } });
  });

  it('refuses a payload over maxMediaBytes, and a frame over the binary cap before reading it', () => {
    const limits = { ...DEFAULT_LIMITS, maxMediaBytes: 4 };
    expect(decodeBinary(frame, limits)).toMatchObject({ ok: false, error: { code: ErrorCode.TooLarge } });
    expect(decodeBinary(new Uint8Array(4 + 1024 + 5), limits)).toMatchObject({ ok: false, error: { code: ErrorCode.TooLarge } });
    expect(decodeBinary(encodeMedia(init, new Uint8Array(4), limits), limits).ok).toBe(true);
  });

  it('encodeMedia refuses what decodeBinary would refuse', () => {
    expect(() => encodeMedia(init, new Uint8Array(0))).toThrow(/E_BAD_FRAME/);
    expect(() => encodeMedia(init, new Uint8Array(5), { ...DEFAULT_LIMITS, maxMediaBytes: 4 })).toThrow(/E_TOO_LARGE/);
    expect(() => encodeMedia({ ...init, index: 1 }, data)).toThrow(/E_BAD_MESSAGE/);
    expect(() => encodeMedia({ ...init, challengeId: 'a b' }, data)).toThrow(/E_BAD_MESSAGE/);
  });
});

describe('limits and close codes', () => {
  it('frameTooLarge checks text and binary against their own limits', () => {
    expect(frameTooLarge(DEFAULT_LIMITS.maxTextBytes, false)).toBeUndefined();
    expect(frameTooLarge(DEFAULT_LIMITS.maxTextBytes + 1, false)).toMatch(/exceeds/);
    expect(frameTooLarge(DEFAULT_LIMITS.maxMediaBytes + 4 + 1024, true)).toBeUndefined();
    expect(frameTooLarge(DEFAULT_LIMITS.maxMediaBytes + 4 + 1025, true)).toMatch(/exceeds/);
  });

  it('utf8Length matches TextEncoder, lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', '\ud800\ud800']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  it('maps fatal errors to close codes in 4000-4999 and leaves answer problems non-fatal', () => {
    expect(closeCodeFor(ErrorCode.BadMessage)).toBe(4000);
    expect(closeCodeFor(ErrorCode.UnsupportedVersion)).toBe(4001);
    expect(closeCodeFor(ErrorCode.AuthFailed)).toBe(4002);
    expect(closeCodeFor(ErrorCode.StaleTimestamp)).toBe(4003);
    expect(closeCodeFor(ErrorCode.UnregisteredHotkey)).toBe(4004);
    expect(closeCodeFor(ErrorCode.TooLarge)).toBe(4005);
    expect(closeCodeFor(ErrorCode.RateLimited)).toBe(4006);
    expect(closeCodeFor(ErrorCode.HeartbeatTimeout)).toBe(4007);
    expect(closeCodeFor(ErrorCode.Replaced)).toBe(4008);
    expect(closeCodeFor(ErrorCode.Shutdown)).toBe(4009);
    expect(closeCodeFor(ErrorCode.HandshakeTimeout)).toBe(4010);
    expect(closeCodeFor(ErrorCode.SlowReader)).toBe(4011);
    for (const code of [
      ErrorCode.BadProbabilities,
      ErrorCode.LateAnswer,
      ErrorCode.DuplicateAnswer,
      ErrorCode.UnknownChallenge,
    ]) {
      expect(closeCodeFor(code)).toBeUndefined();
    }
    const app = Object.values(CloseCode).filter((c) => c >= 4000);
    expect(new Set(app).size).toBe(app.length);
    expect(app.every((c) => c <= 4999)).toBe(true);
  });

  it('in an open session a malformed message costs that message; every other fatal error still closes', () => {
    expect(closeCodeInSession(ErrorCode.BadMessage)).toBeUndefined();
    expect(closeCodeInSession(ErrorCode.BadProbabilities)).toBeUndefined();
    for (const code of [ErrorCode.UnknownType, ErrorCode.UnexpectedMessage, ErrorCode.TooLarge, ErrorCode.UnsupportedVersion]) {
      expect(closeCodeInSession(code)).toBe(closeCodeFor(code));
    }
  });

  it('error codes are unique and E_-prefixed', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.every((c) => /^E_[A-Z_]+$/.test(c))).toBe(true);
  });

  it('close reasons fit the 123-byte RFC limit without splitting a character', () => {
    const { code, reason } = closeFrameFor({ code: ErrorCode.TooLarge, message: '😀'.repeat(100) });
    expect(code).toBe(4005);
    expect(new TextEncoder().encode(reason).length).toBeLessThanOrEqual(123);
    expect(reason.startsWith('E_TOO_LARGE: 😀')).toBe(true);
    expect(reason).not.toContain('\ufffd');
    expect(truncateUtf8('short')).toBe('short');
  });
});
