import type { AddressInfo } from 'node:net';
import { Keyring } from '@polkadot/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  type AnswerMessage,
  ChallengeAssembler,
  type CompleteChallenge,
  closeCodeFor,
  closeFrameFor,
  CloseCode,
  cryptoReady,
  decodeBinary,
  decodeText,
  DEFAULT_LIMITS,
  commitmentFor,
  encode,
  encodeMedia,
  ErrorCode,
  frameTooLarge,
  type Message,
  type ProtocolError,
  signAuth,
  signHello,
  transportMaxPayload,
  verifyAuth,
  verifyHello,
  type WelcomeMessage,
} from './index.js';

// A real `ws` server and client on 127.0.0.1, wired the way the validator and a Node miner are meant to be:
// size check on the raw frame, then decode, then the handshake / assembler logic, closing with the documented codes.

const SALT = 'ab'.repeat(32);
const NETUID = 34;
const PNG = Uint8Array.from(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'),
);
type Pair = ReturnType<Keyring['addFromUri']>;
let alice: Pair;
let bob: Pair;
let charlie: Pair;
let wss: WebSocketServer;
let url: string;
const answers: { hotkey: string; answer: AnswerMessage; media: number }[] = [];

function closeWith(ws: WebSocket, error: ProtocolError): void {
  const { code, reason } = closeFrameFor(error);
  ws.close(code, reason);
}

/** A minimal validator: handshake, one image challenge per connection, a result for the answer. */
function startValidator(): Promise<string> {
  const limits = DEFAULT_LIMITS;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: transportMaxPayload('validator', limits) });
  wss.on('connection', (ws) => {
    const hello = signHello(alice, { netuid: NETUID, timestamp: Date.now() });
    let hotkey: string | undefined;
    ws.send(encode(hello));
    // ws reports a frame over maxPayload here and closes with 1009 itself; the listener keeps Node from throwing.
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      // Limits at the socket, on the byte length, before any conversion or parsing.
      const tooLarge = frameTooLarge(bytes.length, isBinary, limits);
      if (tooLarge !== undefined) return closeWith(ws, { code: ErrorCode.TooLarge, message: tooLarge });
      if (isBinary) return closeWith(ws, { code: ErrorCode.UnexpectedMessage, message: 'miners send no binary frames' });
      const decoded = decodeText(bytes.toString('utf8'), limits, { from: 'miner' });
      if (!decoded.ok) {
        // Non-fatal problems (a bad answer) cost the answer, not the connection: report them and carry on.
        if (hotkey !== undefined && closeCodeFor(decoded.error.code) === undefined) {
          return ws.send(
            encode({ v: 2, type: 'error', code: decoded.error.code, message: decoded.error.message.slice(0, 1024) }),
          );
        }
        return closeWith(ws, decoded.error);
      }
      const message = decoded.message;
      if (hotkey === undefined) {
        if (message.type !== 'auth') return closeWith(ws, { code: ErrorCode.UnexpectedMessage, message: 'auth must come first' });
        const verified = verifyAuth({
          auth: message,
          netuid: NETUID,
          validatorHotkey: alice.address,
          nonce: hello.nonce,
          now: Date.now(),
        });
        if (!verified.ok) return closeWith(ws, verified.error);
        hotkey = verified.hotkey;
        ws.send(encode({ v: 2, type: 'welcome', sessionId: 's-1', uid: 7, heartbeatMs: 15_000, limits }));
        const now = Date.now();
        ws.send(
          encode({
            v: 2,
            type: 'challenge',
            id: 'c-1',
            modality: 'image',
            frames: 1,
            deadlineMs: now + 10_000,
            timeoutMs: 10_000,
            commitment: commitmentFor('c-1', 'synthetic', SALT),
          }),
        );
        ws.send(encodeMedia({ challengeId: 'c-1', index: 0, count: 1, mime: 'image/png' }, PNG));
        return;
      }
      if (message.type === 'answer') {
        answers.push({ hotkey, answer: message, media: PNG.length });
        ws.send(encode({ v: 2, type: 'result', id: message.id, outcome: 'ok' }));
      } else if (message.type === 'ping') ws.send(encode({ v: 2, type: 'pong', seq: message.seq, t: message.t }));
    });
  });
  return new Promise((resolve) =>
    wss.on('listening', () => resolve(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/miner`)),
  );
}

interface MinerRun {
  ws: WebSocket;
  welcome: Promise<WelcomeMessage>;
  challenge: Promise<CompleteChallenge>;
  reply: Promise<Message>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A minimal Node miner; `signer` signs the auth, `claim` is the hotkey it claims (a liar signs with another key). */
function startMiner(signer: Pair, options: { claim?: string; answer?: boolean } = {}): MinerRun {
  const limits = DEFAULT_LIMITS;
  const ws = new WebSocket(url, { maxPayload: transportMaxPayload('miner', limits) });
  const assembler = new ChallengeAssembler(limits);
  let resolveWelcome!: (m: WelcomeMessage) => void;
  let resolveChallenge!: (c: CompleteChallenge) => void;
  let resolveReply!: (m: Message) => void;
  const run: MinerRun = {
    ws,
    welcome: new Promise((r) => (resolveWelcome = r)),
    challenge: new Promise((r) => (resolveChallenge = r)),
    reply: new Promise((r) => (resolveReply = r)),
    closed: new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString('utf8') }))),
  };
  ws.on('message', (data, isBinary) => {
    const bytes = data as Buffer;
    if (frameTooLarge(bytes.length, isBinary, limits) !== undefined) return ws.close(CloseCode.TooLarge);
    if (isBinary) {
      const frame = decodeBinary(bytes, limits);
      if (!frame.ok) return closeWith(ws, frame.error);
      const event = assembler.media(frame.frame);
      if (event.status === 'error') return closeWith(ws, event.error);
      if (event.status === 'complete') {
        resolveChallenge(event.challenge);
        if (options.answer !== false) {
          ws.send(encode({ v: 2, type: 'answer', id: event.challenge.id, probabilities: [0.1, 0.8, 0.1], ms: 12 }));
        }
      }
      return;
    }
    const decoded = decodeText(bytes.toString('utf8'), limits, { from: 'validator' });
    if (!decoded.ok) return closeWith(ws, decoded.error);
    const m = decoded.message;
    if (m.type === 'hello') {
      const ok = verifyHello({ hello: m, now: Date.now(), netuid: NETUID, validator: alice.address });
      if (!ok.ok) return closeWith(ws, ok.error);
      const auth = signAuth(signer, m, Date.now());
      ws.send(encode({ ...auth, hotkey: options.claim ?? auth.hotkey }));
    } else if (m.type === 'welcome') resolveWelcome(m);
    else if (m.type === 'challenge') {
      const event = assembler.challenge(m, Date.now());
      if (event.status === 'error') closeWith(ws, event.error);
    } else if (m.type === 'result' || m.type === 'error') resolveReply(m);
  });
  return run;
}

beforeAll(async () => {
  await cryptoReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
  charlie = keyring.addFromUri('//Charlie');
  url = await startValidator();
});

afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

describe('protocol over real WebSockets', () => {
  it('handshake -> challenge + one binary media frame -> answer -> result', async () => {
    const miner = startMiner(bob);
    const welcome = await miner.welcome;
    expect(welcome).toMatchObject({ type: 'welcome', uid: 7, limits: DEFAULT_LIMITS });
    const challenge = await miner.challenge;
    expect(challenge).toMatchObject({ id: 'c-1', modality: 'image', mimes: ['image/png'] });
    expect(Buffer.from(challenge.media[0]!).equals(Buffer.from(PNG))).toBe(true);
    expect(challenge.deadline).toBeGreaterThan(Date.now());
    expect(await miner.reply).toEqual({ v: 2, type: 'result', id: 'c-1', outcome: 'ok' });
    expect(answers.at(-1)).toEqual({
      hotkey: bob.address,
      answer: { v: 2, type: 'answer', id: 'c-1', probabilities: [0.1, 0.8, 0.1], ms: 12 },
      media: PNG.length,
    });
    miner.ws.close(CloseCode.Normal);
    expect((await miner.closed).code).toBe(CloseCode.Normal);
  });

  it('an oversize text frame closes the connection with 4005 (E_TOO_LARGE)', async () => {
    const miner = startMiner(bob, { answer: false });
    await miner.welcome;
    miner.ws.send('x'.repeat(DEFAULT_LIMITS.maxTextBytes + 1));
    const closed = await miner.closed;
    expect(closed.code).toBe(CloseCode.TooLarge);
    expect(closed.reason).toMatch(/^E_TOO_LARGE: text frame of 65537 bytes exceeds 65536/);
  });

  it('a frame beyond the transport cap is cut off by ws itself with 1009, before it is buffered', async () => {
    const miner = startMiner(bob, { answer: false });
    await miner.welcome;
    miner.ws.send('x'.repeat(transportMaxPayload('validator') + 1));
    expect((await miner.closed).code).toBe(CloseCode.TransportTooLarge);
  });

  it('a miner signing with another key than the hotkey it claims is refused with 4002', async () => {
    const miner = startMiner(charlie, { claim: bob.address });
    const closed = await miner.closed;
    expect(closed.code).toBe(CloseCode.AuthFailed);
    expect(closed.reason).toMatch(/^E_AUTH_FAILED/);
  });

  it('a bad answer gets a non-fatal error message and the connection stays open', async () => {
    const miner = startMiner(bob, { answer: false });
    await miner.challenge;
    miner.ws.send('{"v":2,"type":"answer","id":"c-1","probabilities":[0.5,0.5,0.000002]}');
    expect(await miner.reply).toMatchObject({ type: 'error', code: ErrorCode.BadProbabilities });
    expect(miner.ws.readyState).toBe(WebSocket.OPEN);
    miner.ws.close(CloseCode.Normal);
    await miner.closed;
  });

  it('protocol violations close with 4000: a binary frame from a miner, an unknown type', async () => {
    const binary = startMiner(bob, { answer: false });
    await binary.welcome;
    binary.ws.send(new Uint8Array([1, 2, 3]));
    expect((await binary.closed).code).toBe(CloseCode.ProtocolViolation);
    const unknown = startMiner(bob, { answer: false });
    await unknown.welcome;
    unknown.ws.send('{"v":2,"type":"gossip"}');
    expect(await unknown.closed).toMatchObject({
      code: CloseCode.ProtocolViolation,
      reason: expect.stringMatching(/^E_UNKNOWN_TYPE/),
    });
  });

  it('a future protocol version is refused with 4001', async () => {
    const miner = startMiner(bob, { answer: false });
    await miner.welcome;
    miner.ws.send('{"v":3,"type":"answer"}');
    expect((await miner.closed).code).toBe(CloseCode.UnsupportedVersion);
  });
});
