import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, decodeBinary, decodeText, encode, encodeMedia, MESSAGE_TYPES, verifyAuth, verifyHello } from './index.js';
import type { AuthMessage, ChallengeMessage, HelloMessage, RevealMessage } from './index.js';
import { commitmentFor, commitmentPayloadText, RevealAudit } from './index.js';

// Golden samples are the exact bytes on the wire (protocol/test/make-golden.ts wrote them). They pin the format:
// a change that alters any of them is a protocol change, and a miner in another language can test against them.
const dir = new URL('../test/golden/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const GOLDEN = {
  netuid: 34,
  nonce: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  helloAt: 1767225600000,
  authAt: 1767225600250,
};

beforeAll(async () => {
  await cryptoReady();
});

describe('golden wire samples', () => {
  it('has one text sample per message type and one media sample, nothing else', () => {
    const files = readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .sort();
    expect(files).toEqual([...MESSAGE_TYPES.map((t) => `${t}.json`), 'media.bin'].sort());
  });

  for (const type of MESSAGE_TYPES) {
    it(`${type}.json decodes and re-encodes byte-identically`, () => {
      const text = read(`${type}.json`).toString('utf8');
      const decoded = decodeText(text);
      expect(decoded).toMatchObject({ ok: true, message: { v: 2, type } });
      if (!decoded.ok) return;
      expect(encode(decoded.message)).toBe(text);
      expect(Buffer.from(encode(decoded.message), 'utf8').equals(read(`${type}.json`))).toBe(true);
    });
  }

  it('media.bin decodes and re-encodes byte-identically', () => {
    const bytes = new Uint8Array(read('media.bin'));
    const decoded = decodeBinary(bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.frame.header).toEqual({ v: 2, type: 'media', challengeId: 'c-000042', index: 0, count: 1, mime: 'image/png' });
    // The payload is a PNG: the 4-byte length prefix and the header were stripped exactly.
    expect(Array.from(decoded.frame.data.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const { v: _v, type: _t, ...init } = decoded.frame.header;
    expect(Buffer.from(encodeMedia(init, decoded.frame.data)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('the golden reveal opens the golden challenge commitment (the sha256 layout of protocol/README.md §3)', () => {
    const challenge = JSON.parse(read('challenge.json').toString('utf8')) as ChallengeMessage;
    const reveal = JSON.parse(read('reveal.json').toString('utf8')) as RevealMessage;
    const item = reveal.items[0]!;
    expect(commitmentPayloadText(item.id, item.label, item.salt)).toBe(`veracity-commit:v2:c-000042:synthetic:${item.salt}`);
    expect(challenge.commitment).toBe(commitmentFor(item.id, item.label, item.salt));
    const audit = new RevealAudit();
    audit.commit(challenge.id, challenge.commitment);
    expect(audit.check(reveal)).toEqual({ verified: [{ id: 'c-000042', label: 'synthetic' }], mismatched: [] });
  });

  it('the golden hello and auth carry signatures that verify (//Alice validator, //Bob miner)', () => {
    const hello = JSON.parse(read('hello.json').toString('utf8')) as HelloMessage;
    const auth = JSON.parse(read('auth.json').toString('utf8')) as AuthMessage;
    expect(verifyHello({ hello, now: GOLDEN.helloAt, netuid: GOLDEN.netuid })).toMatchObject({ ok: true, form: 'raw' });
    expect(
      verifyAuth({
        auth,
        nonce: GOLDEN.nonce,
        validatorHotkey: hello.validatorHotkey,
        netuid: GOLDEN.netuid,
        now: GOLDEN.authAt,
      }),
    ).toEqual({ ok: true, hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', form: 'raw' });
  });
});
