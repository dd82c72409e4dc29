// The session state machine against a validator that speaks the real protocol bytes (signHello, verifyAuth,
// encodeMedia) over an in-memory pipe, with a hand-driven clock. The browser WebSocket adapter itself is exercised
// by e2e/web-miner.spec.ts against the real validator.
import { Keyring } from '@polkadot/keyring';
import { u8aToHex, stringToU8a } from '@polkadot/util';
import {
  backoffDelay,
  CloseCode,
  commitmentFor,
  cryptoReady,
  decodeText,
  encode,
  encodeMedia,
  type Label,
  type Message,
  type StandingVerdict,
  signHello,
  verifyAuth,
} from '@veracity/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Answerer, type Clock, MinerSession, type SessionEvent, type SocketHandlers } from './session.js';
import { TokenBucket } from './throttle.js';

class ManualClock implements Clock {
  t = 1_767_225_600_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private seq = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  /** Advances time, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.length;
  }
}

const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
let validator: ReturnType<Keyring['addFromUri']>;
let miner: ReturnType<Keyring['addFromUri']>;
const NETUID = 7;

beforeAll(async () => {
  await cryptoReady();
  validator = keyring.addFromUri('//Alice');
  miner = keyring.addFromUri('//Bob');
});

/** The validator's end of one connection. */
interface Conn {
  handlers: SocketHandlers;
  sent: Message[];
  closed?: { code: number; reason: string };
}

function setup(
  opts: {
    answer?: Answerer;
    throttle?: TokenBucket;
    random?: () => number;
    bundleSha256?: () => string | undefined;
    checkValidator?: (hotkey: string) => Promise<StandingVerdict>;
  } = {},
) {
  const clock = new ManualClock();
  const conns: Conn[] = [];
  const events: SessionEvent[] = [];
  const session = new MinerSession({
    url: 'ws://validator.test/',
    netuid: NETUID,
    hotkey: miner.address,
    // Raw payload signing, as a Node miner does; the wallet path (<Bytes>-wrapped) is covered by the e2e test.
    sign: async (text) => u8aToHex(miner.sign(stringToU8a(text))),
    answer: opts.answer ?? (async () => ({ probabilities: [0.2, 0.5, 0.3], ms: 4 })),
    dial: (_url, handlers) => {
      const conn: Conn = { handlers, sent: [] };
      conns.push(conn);
      return {
        send: (data) => {
          const d = decodeText(data, undefined, { from: 'miner' });
          if (!d.ok) throw new Error(`miner sent a bad frame: ${d.error.message}`);
          conn.sent.push(d.message);
        },
        close: (code = 1000, reason = '') => {
          conn.closed = { code, reason };
        },
      };
    },
    clock,
    throttle: opts.throttle ?? new TokenBucket(0, clock.now()),
    ...(opts.bundleSha256 ? { bundleSha256: opts.bundleSha256 } : {}),
    random: opts.random ?? (() => 0.5),
    ...(opts.checkValidator ? { checkValidator: opts.checkValidator } : {}),
    onEvent: (e) => events.push(e),
  });
  const last = () => conns.at(-1)!;
  /** Opens the socket and runs the handshake; returns the verified auth. */
  const handshake = async (uid = 3, netuid = NETUID) => {
    const c = last();
    c.handlers.onOpen();
    const hello = signHello(validator, { netuid, timestamp: clock.now() });
    c.handlers.onMessage(encode(hello));
    await flush();
    const auth = c.sent.find((m) => m.type === 'auth');
    if (auth?.type === 'auth') {
      const ok = verifyAuth({ auth, now: clock.now(), netuid, validatorHotkey: validator.address, nonce: hello.nonce });
      expect(ok.ok).toBe(true);
      c.handlers.onMessage(
        encode({
          v: 2,
          type: 'welcome',
          sessionId: 's-1',
          uid,
          heartbeatMs: 15_000,
          limits: { maxTextBytes: 65536, maxMediaBytes: 8388608, maxFrames: 16 },
        }),
      );
    }
    return auth;
  };
  const challenge = (id: string, timeoutMs = 5000) => {
    const c = last();
    c.handlers.onMessage(
      encode({
        v: 2,
        type: 'challenge',
        id,
        modality: 'image',
        frames: 1,
        deadlineMs: clock.now() + timeoutMs,
        timeoutMs,
        commitment: commitmentFor(id, LABEL_OF(id), SALT_OF(id)),
      }),
    );
    c.handlers.onMessage(encodeMedia({ challengeId: id, index: 0, count: 1, mime: 'image/png' }, Uint8Array.of(1, 2, 3)));
  };
  return { clock, conns, events, session, last, handshake, challenge };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
/** The test validator's labels and salts: fixed per id, so a test can reveal them honestly or not. */
const LABEL_OF = (id: string): Label => (id.length % 2 === 0 ? 'real' : 'synthetic');
const SALT_OF = (id: string) => Buffer.from(id.padEnd(32, '.')).toString('hex').slice(0, 64);

describe('MinerSession', () => {
  it('handshakes: verifies the hello, signs an auth the validator accepts, learns its uid', async () => {
    const t = setup();
    t.session.start();
    expect(t.session.state).toBe('connecting');
    const auth = await t.handshake(17);
    expect(auth?.type).toBe('auth');
    expect(t.session.state).toBe('mining');
    expect(t.session.uid).toBe(17);
    expect(t.events).toContainEqual({ type: 'welcome', sessionId: 's-1', uid: 17, heartbeatMs: 15_000 });
  });

  it('declares the bundle it serves in every auth, read anew at each handshake', async () => {
    let bundle = 'a'.repeat(64);
    const t = setup({ bundleSha256: () => bundle });
    t.session.start();
    const first = await t.handshake();
    // Declared beside the signature, not under it: the auth still verifies, and the validator reads the field.
    expect(first).toMatchObject({ type: 'auth', bundleSha256: 'a'.repeat(64) });
    bundle = 'b'.repeat(64); // the model was reloaded from another bundle while connected
    t.last().handlers.onClose(CloseCode.Shutdown, 'E_SHUTDOWN: restarting');
    t.clock.advance(30_000);
    expect(await t.handshake()).toMatchObject({ type: 'auth', bundleSha256: 'b'.repeat(64) });
    const none = setup();
    none.session.start();
    expect(await none.handshake()).not.toHaveProperty('bundleSha256');
  });

  it('declines at once when the model says so, and stays silent when it withholds', async () => {
    const t = setup({ answer: async (c) => (c.id === 'c-no' ? { decline: 'this miner has no answer' } : 'withhold') });
    t.session.start();
    await t.handshake();
    t.challenge('c-no');
    await flush();
    t.challenge('c-quiet');
    await flush();
    expect(t.last().sent.filter((m) => m.type !== 'auth')).toEqual([
      expect.objectContaining({ type: 'error', code: 'E_DECLINED', ref: 'c-no', message: 'this miner has no answer' }),
    ]);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'dropped', id: 'c-no', reason: 'declined' }));
    expect(t.events.some((e) => 'id' in e && e.id === 'c-quiet' && e.type !== 'challenge')).toBe(false);
  });

  it('answers a challenge with normalised probabilities and reports the latency', async () => {
    const t = setup({
      answer: async () => {
        t.clock.advance(40);
        return { probabilities: [0.2, 0.5, 0.3000001], ms: 12 };
      },
    });
    t.session.start();
    await t.handshake();
    t.challenge('c-1');
    await flush();
    const answer = t.last().sent.find((m) => m.type === 'answer');
    expect(answer?.type === 'answer' && answer.id).toBe('c-1');
    if (answer?.type !== 'answer') return;
    expect(answer.probabilities.reduce((a, b) => a + b, 0)).toBe(1);
    expect(answer.ms).toBe(12);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'answered', id: 'c-1', latencyMs: 40, inferMs: 12 }));
  });

  it('drops work that finishes past the deadline instead of answering late', async () => {
    const t = setup({
      answer: async () => {
        t.clock.advance(6000);
        return { probabilities: [1, 0, 0] };
      },
    });
    t.session.start();
    await t.handshake();
    t.challenge('c-late', 5000);
    await flush();
    expect(t.last().sent.some((m) => m.type === 'answer')).toBe(false);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'dropped', id: 'c-late', reason: 'deadline' }));
  });

  it('drops a challenge whose deadline passed before inference could start', async () => {
    let calls = 0;
    const t = setup({
      answer: async () => {
        calls++;
        return { probabilities: [1, 0, 0] };
      },
    });
    t.session.start();
    await t.handshake();
    t.challenge('c-0', 30); // within the 50 ms network margin already
    await flush();
    expect(calls).toBe(0);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'dropped', id: 'c-0', reason: 'deadline' }));
  });

  it('drops a challenge the worker reports as expired in its queue', async () => {
    const t = setup({ answer: async () => 'expired' });
    t.session.start();
    await t.handshake();
    t.challenge('c-q');
    await flush();
    expect(t.last().sent.some((m) => m.type === 'answer')).toBe(false);
    expect(t.events).toContainEqual({
      type: 'dropped',
      id: 'c-q',
      reason: 'deadline',
      detail: 'expired while queued for the model',
    });
  });

  it('throttles: over the per-minute cap, challenges are skipped', async () => {
    const clock0 = 1_767_225_600_000;
    const t = setup({ throttle: new TokenBucket(2, clock0, 1) });
    t.session.start();
    await t.handshake();
    t.challenge('c-a');
    await flush();
    t.challenge('c-b');
    await flush();
    const answered = () => t.last().sent.filter((m) => m.type === 'answer').length;
    expect(answered()).toBe(1);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'dropped', id: 'c-b', reason: 'throttle' }));
    // The validator hears at once that c-b will not be answered, so its round need not wait for the deadline.
    expect(t.last().sent).toContainEqual(expect.objectContaining({ type: 'error', code: 'E_DECLINED', ref: 'c-b' }));
    expect(t.last().sent.filter((m) => m.type === 'error')).toHaveLength(1);
    t.clock.advance(30_000); // 2 a minute: one token every 30 s
    t.challenge('c-c');
    await flush();
    expect(answered()).toBe(2);
  });

  it('answers pings at once, driven by the message (not a timer), and pings a quiet validator itself', async () => {
    const t = setup();
    t.session.start();
    await t.handshake();
    t.last().handlers.onMessage(encode({ v: 2, type: 'ping', seq: 9, t: 123 }));
    expect(t.last().sent.at(-1)).toEqual({ v: 2, type: 'pong', seq: 9, t: 123 });
    t.clock.advance(15_000);
    expect(t.last().sent.at(-1)).toMatchObject({ type: 'ping', seq: 1 });
  });

  it('declares a silent validator dead after 3 heartbeats and redials with backoff', async () => {
    const t = setup();
    t.session.start();
    await t.handshake();
    t.clock.advance(45_000);
    expect(t.last().closed?.code).toBe(4007);
    expect(t.session.state).toBe('waiting');
    expect(t.events).toContainEqual({ type: 'closed', code: 4007, reason: expect.any(String), retryInMs: 250 });
    t.clock.advance(250);
    expect(t.conns.length).toBe(2);
  });

  it('backs off with jitter, exponentially, and resets after a welcome', async () => {
    const t = setup({ random: () => 0.5 });
    t.session.start();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      t.last().handlers.onClose(1006, '');
      const closed = t.events.filter((e) => e.type === 'closed').at(-1);
      delays.push(closed?.type === 'closed' ? closed.retryInMs! : -1);
      t.clock.advance(closed?.type === 'closed' ? closed.retryInMs! : 0);
    }
    expect(delays).toEqual([0, 1, 2, 3].map((a) => backoffDelay(a, { random: () => 0.5 })));
    expect(delays).toEqual([250, 500, 1000, 2000]);
    await t.handshake();
    t.last().handlers.onClose(1011, 'E_INTERNAL: bug');
    const closed = t.events.filter((e) => e.type === 'closed').at(-1);
    expect(closed?.type === 'closed' && closed.retryInMs).toBe(250);
  });

  it('treats an unregistered hotkey as a refusal: shown, retried only slowly', async () => {
    const t = setup();
    t.session.start();
    await t.handshake();
    t.last().handlers.onClose(4004, 'E_UNREGISTERED_HOTKEY: not registered');
    expect(t.session.state).toBe('refused');
    const closed = t.events.filter((e) => e.type === 'closed').at(-1);
    expect(closed?.type === 'closed' && closed.retryInMs).toBe(15_000); // attempt 0 + 6: 500 * 64 capped to 30 s, x0.5
  });

  it('nudge() redials at once when a throttled background timer is overdue', async () => {
    const t = setup();
    t.session.start();
    t.last().handlers.onClose(1006, '');
    expect(t.conns.length).toBe(1);
    // The tab slept: time passed but the timer did not fire.
    t.clock.t += 10_000;
    t.session.nudge();
    expect(t.conns.length).toBe(2);
    expect(t.session.state).toBe('connecting');
  });

  it('refuses a hello for another subnet as wrong network (close 4002)', async () => {
    const t = setup();
    t.session.start();
    await t.handshake(3, NETUID + 1);
    expect(t.last().closed?.code).toBe(4002);
    expect(t.events).toContainEqual(expect.objectContaining({ type: 'error', code: 'E_WRONG_NETWORK' }));
  });

  it('closes with 4005 on a frame over the limits, before parsing it', async () => {
    const t = setup();
    t.session.start();
    await t.handshake();
    t.last().handlers.onMessage('x'.repeat(70_000));
    expect(t.last().closed?.code).toBe(4005);
  });

  it('ignores a closed socket once stopped and never redials', async () => {
    const t = setup();
    t.session.start();
    await t.handshake();
    t.session.stop();
    expect(t.last().closed?.code).toBe(1000);
    t.last().handlers.onClose(1000, '');
    t.clock.advance(60_000);
    expect(t.conns.length).toBe(1);
    expect(t.session.state).toBe('stopped');
  });

  it('audits reveals across a reconnect: honest items verify, a changed label and an unknown id go back as E_REVEAL_MISMATCH', async () => {
    const t = setup();
    t.session.start();
    await t.handshake();
    for (const id of ['c-1', 'c-22', 'c-333']) t.challenge(id);
    await flush();
    // The reveal comes on the next connection: the commitments outlive the socket.
    t.last().handlers.onClose(1006, '');
    t.clock.advance(60_000);
    await t.handshake();
    const honest = (id: string) => ({ id, label: LABEL_OF(id), salt: SALT_OF(id) });
    t.last().handlers.onMessage(
      encode({
        v: 2,
        type: 'reveal',
        window: 'w-1',
        items: [
          honest('c-1'),
          honest('c-22'),
          { ...honest('c-333'), label: 'real' },
          { id: 'c-4444', label: 'real', salt: SALT_OF('c-4444') },
        ],
      }),
    );
    const reveal = t.events.find((e) => e.type === 'reveal');
    expect(reveal).toMatchObject({
      window: 'w-1',
      verified: [
        { id: 'c-1', label: 'synthetic' },
        { id: 'c-22', label: 'real' },
      ],
      mismatched: [
        { id: 'c-333', reason: 'commitment' },
        { id: 'c-4444', reason: 'unknown' },
      ],
      audit: { committed: 3, revealed: 4, verified: 2, mismatched: 2, pending: 0 },
    });
    const reports = t.last().sent.filter((m) => m.type === 'error' && m.code === 'E_REVEAL_MISMATCH');
    expect(reports.map((m) => (m.type === 'error' ? m.ref : ''))).toEqual(['c-333', 'c-4444']);
  });

  it('mines only for a validator whose standing passes; refuses the others in plain words and retries slowly', async () => {
    const asked: string[] = [];
    let verdict: StandingVerdict = {
      ok: false,
      code: 'E_VALIDATOR_REFUSED',
      message: 'Not mining for validator 5GrwvaEF…: uid 0 holds no validator permit on subnet 7, so its weights do not count.',
    };
    const t = setup({
      checkValidator: async (hotkey) => {
        asked.push(hotkey);
        return verdict;
      },
    });
    t.session.start();
    await t.handshake();
    expect(asked).toEqual([validator.address]);
    expect(t.last().sent.filter((m) => m.type === 'auth')).toEqual([]);
    expect(t.last().closed?.code).toBe(1000);
    expect(t.events).toContainEqual({
      type: 'refused',
      validator: validator.address,
      code: 'E_VALIDATOR_REFUSED',
      message: verdict.message,
    });
    t.last().handlers.onClose(1000, 'miner refuses this validator');
    expect(t.session.state).toBe('refused');
    expect(t.session.refusal).toBe(verdict.message);
    // Slow retry: not within the first backoff steps.
    t.clock.advance(5_000);
    expect(t.conns.length).toBe(1);
    // The validator gets its permit; the next check passes and mining starts.
    verdict = { ok: true };
    t.clock.advance(60_000);
    expect(t.conns.length).toBe(2);
    const auth = await t.handshake();
    expect(auth?.type).toBe('auth');
    expect(t.session.state).toBe('mining');
    expect(t.session.refusal).toBeUndefined();
  });

  it('treats a chain that does not answer in time as a refusal, not as a handshake left hanging', async () => {
    const t = setup({ checkValidator: () => new Promise<StandingVerdict>(() => undefined) });
    t.session.start();
    t.last().handlers.onOpen();
    t.last().handlers.onMessage(encode(signHello(validator, { netuid: NETUID, timestamp: t.clock.now() })));
    await flush();
    t.clock.advance(14_999);
    await flush();
    expect(t.session.refusal).toBeUndefined();
    t.clock.advance(1);
    await flush();
    expect(t.session.refusal).toMatch(/^Not mining: cannot read validator 5GrwvaEF… from the chain \(no answer in 15 s\)\.$/);
    expect(t.last().closed?.code).toBe(CloseCode.Normal);
    expect(t.last().sent.filter((m) => m.type === 'auth')).toEqual([]);
  });

  it('treats a chain that cannot be read as a refusal, never as good standing', async () => {
    const t = setup({ checkValidator: async () => Promise.reject(new Error('no answer from the chain in 15 s')) });
    t.session.start();
    await t.handshake();
    expect(t.last().sent.filter((m) => m.type === 'auth')).toEqual([]);
    expect(t.session.refusal).toMatch(/^Not mining: cannot read validator 5GrwvaEF… from the chain \(no answer/);
  });
});
