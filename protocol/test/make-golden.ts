// Regenerates the golden wire samples: `npx tsx protocol/test/make-golden.ts`. Only needed when the protocol
// changes on purpose; sr25519 signatures are randomized, so hello/auth signatures differ on every run (both stay
// valid for //Alice and //Bob). golden.test.ts checks that every file decodes and re-encodes byte-identically.
import { writeFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { commitmentFor, encode, encodeMedia, type Message, signAuth, signHello } from '../src/index.js';

// Keep in sync with golden.test.ts.
const GOLDEN = {
  netuid: 34,
  nonce: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  helloAt: 1767225600000,
  authAt: 1767225600250,
  label: 'synthetic' as const,
  salt: '5c1f3a9e0b7d4c2a8f6e1d3b5a7c9e0f2b4d6a8c0e1f3b5d7a9c2e4f6b8d0a1c',
};

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const alice = keyring.addFromUri('//Alice');
const bob = keyring.addFromUri('//Bob');
const dir = new URL('./golden/', import.meta.url);

const hello = signHello(alice, { netuid: GOLDEN.netuid, timestamp: GOLDEN.helloAt, nonce: GOLDEN.nonce });
const messages: Message[] = [
  hello,
  signAuth(bob, hello, GOLDEN.authAt),
  {
    v: 2,
    type: 'welcome',
    sessionId: 's-5FHneW46-1',
    uid: 17,
    heartbeatMs: 15000,
    limits: { maxTextBytes: 65536, maxMediaBytes: 8388608, maxFrames: 16 },
  },
  {
    v: 2,
    type: 'challenge',
    id: 'c-000042',
    modality: 'image',
    frames: 1,
    deadlineMs: 1767225612000,
    timeoutMs: 10000,
    commitment: commitmentFor('c-000042', GOLDEN.label, GOLDEN.salt),
  },
  { v: 2, type: 'answer', id: 'c-000042', probabilities: [0.125, 0.75, 0.125], ms: 38.5 },
  { v: 2, type: 'result', id: 'c-000042', outcome: 'ok', ms: 412 },
  { v: 2, type: 'reveal', window: 'w-7', items: [{ id: 'c-000042', label: GOLDEN.label, salt: GOLDEN.salt }] },
  { v: 2, type: 'ping', seq: 7, t: 1767225615000 },
  { v: 2, type: 'pong', seq: 7, t: 1767225615000 },
  { v: 2, type: 'error', code: 'E_BAD_PROBABILITIES', message: 'bad answer: probabilities must sum to 1', ref: 'c-000042' },
  { v: 2, type: 'bye', reason: 'validator restarting' },
];
for (const m of messages) writeFileSync(new URL(`${m.type}.json`, dir), encode(m));

// A 1x1 PNG: the smallest real image, so the sample is also a valid media payload.
const png = Uint8Array.from(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'),
);
writeFileSync(new URL('media.bin', dir), encodeMedia({ challengeId: 'c-000042', index: 0, count: 1, mime: 'image/png' }, png));
