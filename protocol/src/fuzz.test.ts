import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBinary, decodeText, DEFAULT_LIMITS, encode, ErrorCode, type Limits } from './index.js';

// Property-style fuzzing with a seeded PRNG (reproducible: a failure prints its seed and input). The properties:
// decoders never throw, every refusal carries a known error code, and whatever is accepted re-encodes to text that
// decodes to the same message (the codec is a fixed point on everything it accepts).

function rng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dir = new URL('../test/golden/', import.meta.url);
const goldenTexts = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => readFileSync(new URL(f, dir), 'utf8'));
const goldenMedia = new Uint8Array(readFileSync(new URL('media.bin', dir)));
const CODES = new Set<string>(Object.values(ErrorCode));
const FIELD_NAMES = [
  'v',
  'type',
  'id',
  'probabilities',
  'frames',
  'modality',
  'nonce',
  'hotkey',
  'limits',
  'seq',
  't',
  'count',
  'index',
];
const ATOMS: unknown[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e-7,
  1.000002,
  2 ** 53,
  2 ** 43,
  -(2 ** 31),
  1e308,
  'a',
  '',
  '\u0000',
  '😀',
  '__proto__',
  'constructor',
  'hello',
  'answer',
  'media',
  'challenge',
  'image',
  'video',
  'image/png',
  true,
  false,
  null,
  [],
  {},
  [0.2, 0.3, 0.5],
  [1, 0, 0],
];
const WEIRD_TEXT = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '\\',
  '\\u',
  '\\ud800',
  '1e999',
  '-',
  'NaN',
  'null',
  '\ud800',
  '\u2028',
  ' ',
  '0x',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function randomValue(r: () => number, depth = 0): unknown {
  const k = r();
  if (depth > 3 || k < 0.5) return pick(r, ATOMS);
  if (k < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[pick(r, FIELD_NAMES)] = randomValue(r, depth + 1);
  return o;
}

function mutateText(r: () => number, text: string): string {
  let s = text;
  for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
    const at = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0)
      s = s.slice(0, at) + s.slice(at + 1); // delete
    else if (op === 1)
      s = s.slice(0, at) + pick(r, WEIRD_TEXT) + s.slice(at); // insert
    else if (op === 2)
      s = s.slice(0, at); // truncate
    else if (op === 3)
      s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x10000)) + s.slice(at + 1); // replace
    else if (op === 4)
      s = s.slice(0, at) + s.slice(Math.floor(r() * s.length)); // splice
    else s = s.replace(/-?\d+(\.\d+)?/, String(pick(r, ATOMS))); // swap a number
  }
  return s;
}

/** A valid message with one field replaced by a random value: reaches deep into the field validators. */
function mutateField(r: () => number, text: string): string {
  const value = JSON.parse(text) as Record<string, unknown>;
  const keys = Object.keys(value);
  const key = r() < 0.8 ? pick(r, keys) : pick(r, FIELD_NAMES);
  if (r() < 0.15) delete value[key];
  else value[key] = randomValue(r);
  return JSON.stringify(value);
}

function mutateBytes(r: () => number, bytes: Uint8Array): Uint8Array {
  let b = bytes.slice();
  for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
    const op = Math.floor(r() * 5);
    const at = Math.floor(r() * b.length);
    if (op === 0 && b.length > 0)
      b[at] = Math.floor(r() * 256); // flip a byte
    else if (op === 1)
      b = b.slice(0, at); // truncate
    else if (op === 2)
      b[Math.floor(r() * 4)] = Math.floor(r() * 256); // corrupt the length prefix
    else if (op === 3) {
      const extra = Uint8Array.from({ length: Math.floor(r() * 16) }, () => Math.floor(r() * 256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b.subarray(0, at));
      out.set(extra, at);
      out.set(b.subarray(at), at + extra.length);
      b = out;
    } else {
      // A frame whose header is a random JSON value.
      const header = new TextEncoder().encode(JSON.stringify(randomValue(r)) ?? 'null');
      b = new Uint8Array(4 + header.length + 1 + Math.floor(r() * 8));
      new DataView(b.buffer).setUint32(0, header.length, false);
      b.set(header, 4);
    }
  }
  return b;
}

const SMALL: Limits = { ...DEFAULT_LIMITS, maxTextBytes: 256, maxMediaBytes: 64 };

function checkText(input: string, limits: Limits): boolean {
  let result: ReturnType<typeof decodeText>;
  try {
    result = decodeText(input, limits);
  } catch (error) {
    throw new Error(`decodeText threw on ${JSON.stringify(input)}: ${String(error)}`, { cause: error });
  }
  if (!result.ok) {
    expect(CODES.has(result.error.code), `unknown code ${result.error.code}`).toBe(true);
    expect(typeof result.error.message).toBe('string');
    return false;
  }
  const again = decodeText(encode(result.message, limits), limits);
  expect(again).toEqual(result);
  return true;
}

describe('fuzz', () => {
  it('decodeText never throws on 30,000 random and mutated inputs', () => {
    const r = rng(0x5eed_0001);
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const base = pick(r, goldenTexts);
      const mode = i % 4;
      const input =
        mode === 0
          ? mutateText(r, base)
          : mode === 1
            ? mutateField(r, base)
            : mode === 2
              ? (JSON.stringify(randomValue(r)) ?? '')
              : Array.from({ length: Math.floor(r() * 64) }, () => String.fromCharCode(Math.floor(r() * 0x10000))).join('');
      if (checkText(input, i % 2 === 0 ? DEFAULT_LIMITS : SMALL)) accepted++;
    }
    // Some mutations keep a message valid (a changed digit in a timestamp); the property holds for those too.
    expect(accepted).toBeGreaterThan(0);
  });

  it('decodeBinary never throws on 20,000 random and mutated frames', () => {
    const r = rng(0x5eed_0002);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const input =
        i % 3 === 0
          ? Uint8Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256))
          : mutateBytes(r, goldenMedia);
      let result: ReturnType<typeof decodeBinary>;
      try {
        result = decodeBinary(input, i % 2 === 0 ? DEFAULT_LIMITS : SMALL);
      } catch (error) {
        throw new Error(`decodeBinary threw on ${Buffer.from(input).toString('hex')}: ${String(error)}`, { cause: error });
      }
      if (result.ok) {
        accepted++;
        expect(result.frame.data.length).toBeGreaterThan(0);
      } else expect(CODES.has(result.error.code)).toBe(true);
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('non-string and non-byte inputs are refused, not thrown on', () => {
    const r = rng(3);
    for (let i = 0; i < 1000; i++) {
      const v = randomValue(r);
      expect(decodeText(v).ok).toBe(typeof v === 'string' ? decodeText(v).ok : false);
      expect(decodeBinary(v).ok).toBe(false);
    }
  });
});
