/**
 * One miner session with one validator: dial, verify the validator's hello (and its standing on the chain), sign the
 * auth and declare the bundle served, answer challenges, drop work past its deadline or over the throttle, audit
 * reveals, heartbeats, reconnect with backoff and jitter. The one miner client: the web miner (web-miner/src/
 * controller.ts) and the Node miner (validator/src/miner/node-miner.ts) are adapters that bring the socket, the
 * clock, the signer and the model. Pure: fakes over real protocol bytes drive it in the tests.
 */
import {
  type AuditCounts,
  type AuthMessage,
  authPayloadText,
  backoffDelay,
  ChallengeAssembler,
  CloseCode,
  closeCodeFor,
  closeFrameFor,
  type CompleteChallenge,
  decodeBinary,
  decodeText,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LIMITS,
  declineFor,
  encode,
  ErrorCode,
  frameTooLarge,
  HeartbeatMonitor,
  type Limits,
  type Probabilities,
  PROTOCOL_VERSION,
  pongFor,
  RevealAudit,
  type StandingVerdict,
  revealMismatchFor,
  verifyHello,
} from '@veracity/protocol';

/** A cap on answers per minute shared by the sessions of one miner (the web miner's TokenBucket). */
export interface Throttle {
  readonly perMinute: number;
  /** Takes one token at `now`; false when over the cap. */
  take(now: number): boolean;
}

/** What the session needs from a WebSocket (the browser adapter wraps `WebSocket`). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: string | Uint8Array): void;
  onClose(code: number, reason: string): void;
}

export type Dial = (url: string, handlers: SocketHandlers) => SocketLike;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Signs the UTF-8 text of the auth payload with the miner's hotkey (a wallet signs it wrapped in <Bytes>). */
export type TextSigner = (payload: string) => Promise<string>;

/**
 * What the miner does with a complete challenge: answer it; 'expired' when it waited in a queue past its deadline;
 * `{ decline }` to tell the validator at once that it will not answer (E_DECLINED); 'withhold' to stay silent (a
 * miner that never answers, for tests). A thrown error is reported and declined.
 */
export type AnswerOutcome = { probabilities: Probabilities; ms?: number } | 'expired' | 'withhold' | { decline: string };

/** Runs the model on a complete challenge (in a worker, or onnxruntime-node). */
export type Answerer = (challenge: CompleteChallenge) => Promise<AnswerOutcome>;

export type SessionState = 'connecting' | 'handshake' | 'mining' | 'waiting' | 'refused' | 'stopped';

export type DropReason = 'deadline' | 'throttle' | 'closed' | 'error' | 'declined';

export type SessionEvent =
  | { type: 'state'; state: SessionState }
  | { type: 'welcome'; sessionId: string; uid?: number; heartbeatMs: number }
  | { type: 'challenge'; id: string; modality: string; frames: number }
  | { type: 'answered'; id: string; latencyMs: number; inferMs: number; probabilities: Probabilities }
  | { type: 'dropped'; id: string; reason: DropReason; detail?: string }
  | { type: 'result'; id: string; outcome?: string; ms?: number }
  /** A reveal checked against this session's commitments: the labels it verified, the ids that did not match. */
  | {
      type: 'reveal';
      window: string;
      verified: Array<{ id: string; label: string }>;
      mismatched: Array<{ id: string; reason: string }>;
      audit: AuditCounts;
    }
  | { type: 'closed'; code: number; reason: string; retryInMs: number | null }
  /** This miner refused the validator (no permit, too little stake, unknown standing): `message` says why. */
  | { type: 'refused'; validator: string; code: string; message: string }
  | { type: 'error'; code: string; message: string };

export interface SessionOptions {
  url: string;
  netuid: number;
  /** The miner's hotkey (SS58). */
  hotkey: string;
  sign: TextSigner;
  answer: Answerer;
  dial: Dial;
  clock: Clock;
  /**
   * The bundle this miner answers with, declared as `bundleSha256` in every auth (protocol README §12): its id,
   * bundleDigest(manifest.json). Read at each handshake, so a model reloaded mid-session is declared on the next one.
   */
  bundleSha256?: () => string | undefined;
  /** Shared by every session of one miner; none = no cap. */
  throttle?: Throttle;
  /** Accept only this validator hotkey (default: any whose hello verifies). */
  validator?: string;
  /**
   * The validator's standing on the chain (registered, permit, stake) before signing its hello; a refusal closes the
   * connection, shows why, and retries slowly (stake changes). Without it, any validator whose hello verifies.
   */
  checkValidator?: (hotkey: string) => Promise<StandingVerdict>;
  /** How long checkValidator may take before the standing counts as unknown, i.e. refused (default 15 s). */
  standingTimeoutMs?: number;
  random?: () => number;
  /**
   * Answers later than deadline - marginMs are dropped: they would arrive after the validator stops listening
   * (default 50 ms, for a page whose clock and network are the user's).
   */
  marginMs?: number;
  onEvent?: (e: SessionEvent) => void;
}

/** A chain read that has not answered by then will not: the validator's handshake timeout is near anyway. */
export const DEFAULT_STANDING_TIMEOUT_MS = 15_000;

/** Closes after which redialling cannot help until the user changes something: retried slowly, shown as refused. */
const REFUSALS: ReadonlySet<number> = new Set([CloseCode.AuthFailed, CloseCode.UnregisteredHotkey]);

export class MinerSession {
  state: SessionState = 'waiting';
  private socket: SocketLike | undefined;
  /** Bumped per connection, so events of an old socket are ignored after a redial. */
  private generation = 0;
  private attempt = 0;
  private retryAt: number | undefined;
  private retryTimer: unknown;
  private heartbeatTimer: unknown;
  private heartbeat: HeartbeatMonitor | undefined;
  private limits: Limits = DEFAULT_LIMITS;
  private assembler = new ChallengeAssembler();
  private readonly arrivals = new Map<string, number>();
  /** Label commitments received and reveals checked; kept across reconnects, since a reveal may come on a later one. */
  readonly audit = new RevealAudit();
  uid: number | undefined;
  /** Why this session refused its validator (no permit, too little stake, unknown standing); cleared on welcome. */
  refusal: string | undefined;
  lastClose: { code: number; reason: string } | undefined;

  constructor(private readonly o: SessionOptions) {}

  start(): void {
    if (this.state === 'stopped') return;
    this.connect();
  }

  stop(): void {
    this.setState('stopped');
    this.o.clock.clearTimeout(this.retryTimer);
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.socket?.close(CloseCode.Normal, 'miner stopped');
    this.socket = undefined;
  }

  /**
   * Called when the tab becomes visible again (and on any other hint that time passed): background tabs throttle
   * timers to once a minute, so a due reconnect or heartbeat check runs now instead of whenever the timer fires.
   */
  nudge(): void {
    if (this.state === 'stopped') return;
    if (
      (this.state === 'waiting' || this.state === 'refused') &&
      this.retryAt !== undefined &&
      this.o.clock.now() >= this.retryAt
    ) {
      this.o.clock.clearTimeout(this.retryTimer);
      this.connect();
      return;
    }
    if (this.state === 'mining') this.pollHeartbeat();
  }

  private emit(e: SessionEvent): void {
    this.o.onEvent?.(e);
  }

  private setState(s: SessionState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit({ type: 'state', state: s });
  }

  private connect(): void {
    this.retryAt = undefined;
    const gen = ++this.generation;
    this.assembler = new ChallengeAssembler();
    this.limits = DEFAULT_LIMITS;
    this.heartbeat = undefined;
    this.arrivals.clear();
    this.setState('connecting');
    const live = () => gen === this.generation && this.state !== 'stopped';
    this.socket = this.o.dial(this.o.url, {
      onOpen: () => live() && this.setState('handshake'),
      onMessage: (data) => live() && this.onMessage(gen, data),
      onClose: (code, reason) => live() && this.onClose(code, reason),
    });
  }

  private close(error: { code: string; message: string }): void {
    const code = closeCodeFor(error.code as never) ?? CloseCode.ProtocolViolation;
    const frame = closeFrameFor({ code: error.code as never, message: error.message });
    this.emit({ type: 'error', code: error.code, message: error.message });
    this.socket?.close(code, frame.reason);
  }

  private onMessage(gen: number, data: string | Uint8Array): void {
    const now = this.o.clock.now();
    // Inbound traffic drives the heartbeat too: a background tab's timers may fire a minute late, messages do not.
    this.heartbeat?.onInbound();
    const binary = typeof data !== 'string';
    const tooLarge = frameTooLarge(binary ? data.byteLength : data.length, binary, this.limits);
    if (tooLarge) return this.close({ code: ErrorCode.TooLarge, message: tooLarge });
    if (binary) {
      const frame = decodeBinary(data, this.limits);
      const ev = frame.ok ? this.assembler.media(frame.frame) : ({ status: 'error', error: frame.error } as const);
      if (ev.status === 'error') return this.close(ev.error);
      if (ev.status === 'complete') void this.work(gen, ev.challenge);
      return;
    }
    const decoded = decodeText(data, this.limits, { from: 'validator' });
    if (!decoded.ok) {
      if (closeCodeFor(decoded.error.code) !== undefined) return this.close(decoded.error);
      return this.emit({ type: 'error', code: decoded.error.code, message: decoded.error.message });
    }
    const m = decoded.message;
    switch (m.type) {
      case 'hello': {
        if (this.state !== 'handshake' && this.state !== 'connecting') {
          return this.close({ code: ErrorCode.UnexpectedMessage, message: 'a second hello on one connection' });
        }
        const ok = verifyHello({
          hello: m,
          now,
          netuid: this.o.netuid,
          ...(this.o.validator ? { validator: this.o.validator } : {}),
        });
        if (!ok.ok) return this.close(ok.error);
        this.setState('handshake');
        void this.authenticate(gen, m);
        return;
      }
      case 'welcome':
        this.attempt = 0;
        this.refusal = undefined;
        this.limits = m.limits;
        this.assembler = new ChallengeAssembler(m.limits);
        this.uid = m.uid;
        this.heartbeat = new HeartbeatMonitor({
          intervalMs: m.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
          now: () => this.o.clock.now(),
        });
        this.setState('mining');
        this.emit({
          type: 'welcome',
          sessionId: m.sessionId,
          heartbeatMs: this.heartbeat.intervalMs,
          ...(m.uid === undefined ? {} : { uid: m.uid }),
        });
        return this.armHeartbeat();
      case 'challenge': {
        const ev = this.assembler.challenge(m, now);
        if (ev.status === 'error') return this.close(ev.error);
        this.arrivals.set(m.id, now);
        this.audit.commit(m.id, m.commitment);
        this.emit({ type: 'challenge', id: m.id, modality: m.modality, frames: m.frames });
        return;
      }
      case 'ping':
        this.socket?.send(encode(pongFor(m)));
        this.pollHeartbeat();
        return;
      case 'pong':
        this.heartbeat?.onPong(m);
        return;
      case 'result':
        return this.emit({
          type: 'result',
          id: m.id,
          ...(m.outcome === undefined ? {} : { outcome: m.outcome }),
          ...(m.ms === undefined ? {} : { ms: m.ms }),
        });
      case 'reveal': {
        const check = this.audit.check(m);
        // Every mismatch goes back to the validator as evidence; the page shows the counts.
        for (const x of check.mismatched) this.socket?.send(encode(revealMismatchFor(x, m.window)));
        return this.emit({ type: 'reveal', window: m.window, ...check, audit: this.audit.snapshot() });
      }
      case 'error':
        return this.emit({ type: 'error', code: m.code, message: m.message });
      default:
        return;
    }
  }

  /** `p`, or a rejection once `ms` pass on the injected clock (a half-dead chain node never answers). */
  private within<T>(p: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.o.clock.setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
      p.then(
        (v) => {
          this.o.clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          this.o.clock.clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private async authenticate(gen: number, hello: { netuid: number; validatorHotkey: string; nonce: string }): Promise<void> {
    if (this.o.checkValidator) {
      let verdict: StandingVerdict;
      try {
        verdict = await this.within(
          this.o.checkValidator(hello.validatorHotkey),
          this.o.standingTimeoutMs ?? DEFAULT_STANDING_TIMEOUT_MS,
        );
      } catch (e) {
        // Unknown standing is not good standing: no mining until the chain answers.
        verdict = {
          ok: false,
          code: 'E_VALIDATOR_REFUSED',
          message: `Not mining: cannot read validator ${hello.validatorHotkey.slice(0, 8)}… from the chain (${e instanceof Error ? e.message : String(e)}).`,
        };
      }
      if (gen !== this.generation || this.state === 'stopped') return;
      if (!verdict.ok) {
        this.refusal = verdict.message;
        this.emit({ type: 'refused', validator: hello.validatorHotkey, code: verdict.code, message: verdict.message });
        this.socket?.close(CloseCode.Normal, 'miner refuses this validator');
        return;
      }
    }
    const timestamp = this.o.clock.now();
    let signature: string;
    try {
      signature = await this.o.sign(authPayloadText({ ...hello, timestamp }));
    } catch (e) {
      if (gen !== this.generation) return;
      this.emit({ type: 'error', code: 'E_WALLET_REJECTED', message: e instanceof Error ? e.message : String(e) });
      this.socket?.close(CloseCode.Normal, 'signing refused');
      return;
    }
    if (gen !== this.generation || this.state === 'stopped') return;
    const auth: AuthMessage = { v: PROTOCOL_VERSION, type: 'auth', hotkey: this.o.hotkey, timestamp, signature };
    const bundleSha256 = this.o.bundleSha256?.();
    if (bundleSha256 !== undefined) auth.bundleSha256 = bundleSha256;
    this.socket?.send(encode(auth));
  }

  private async work(gen: number, c: CompleteChallenge): Promise<void> {
    const margin = this.o.marginMs ?? 50;
    const arrived = this.arrivals.get(c.id) ?? this.o.clock.now();
    this.arrivals.delete(c.id);
    const drop = (reason: DropReason, detail?: string) => {
      // Over the cap, a failed model or a miner that will not answer: tell the validator now (E_DECLINED), so its
      // round does not wait for the deadline on us. Late or closed work needs no word: the deadline has passed or
      // the connection is gone.
      if ((reason === 'throttle' || reason === 'error' || reason === 'declined') && gen === this.generation) {
        const message =
          reason === 'throttle'
            ? `over this miner's cap of ${this.o.throttle?.perMinute ?? 0} a minute`
            : (detail ?? 'the model failed');
        this.socket?.send(encode(declineFor(c.id, message)));
      }
      this.emit({ type: 'dropped', id: c.id, reason, ...(detail === undefined ? {} : { detail }) });
    };
    if (this.o.throttle && !this.o.throttle.take(this.o.clock.now())) return drop('throttle');
    if (this.o.clock.now() >= c.deadline - margin) return drop('deadline', 'expired before inference started');
    let result: AnswerOutcome;
    try {
      result = await this.o.answer(c);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const code = (e as { code?: unknown }).code;
      // E_INFERENCE is the model runtime's code for a failed run (@veracity/models ErrorCode.Inference).
      this.emit({ type: 'error', code: typeof code === 'string' ? code : 'E_INFERENCE', message });
      return drop('error', message);
    }
    if (result === 'expired') return drop('deadline', 'expired while queued for the model');
    if (result === 'withhold') return;
    if ('decline' in result) return drop('declined', result.decline);
    const now = this.o.clock.now();
    if (gen !== this.generation || this.state !== 'mining') return drop('closed');
    // Late work is dropped, never sent: the validator would not score it and it only costs bandwidth.
    if (now > c.deadline - margin) return drop('deadline', `inference finished ${now - c.deadline + margin} ms too late`);
    const probabilities = normalise(result.probabilities);
    const inferMs = result.ms ?? now - arrived;
    this.socket?.send(
      encode({ v: PROTOCOL_VERSION, type: 'answer', id: c.id, probabilities, ms: Math.round(inferMs * 1000) / 1000 }),
    );
    this.emit({ type: 'answered', id: c.id, latencyMs: now - arrived, inferMs, probabilities });
  }

  /** Acts on the heartbeat monitor's verdict; returns when to look again (undefined once the peer is dead). */
  private pollHeartbeat(): number | undefined {
    const hb = this.heartbeat;
    if (!hb) return undefined;
    const action = hb.poll();
    if (action.action === 'dead') {
      this.emit({ type: 'error', code: ErrorCode.HeartbeatTimeout, message: `validator silent for ${action.silentMs} ms` });
      // A dead peer may never send a close frame: act as if it had, so the reconnect starts now.
      const socket = this.socket;
      const reason = `${ErrorCode.HeartbeatTimeout}: validator silent`;
      this.onClose(CloseCode.HeartbeatTimeout, reason);
      socket?.close(CloseCode.HeartbeatTimeout, reason);
      return undefined;
    }
    if (action.action === 'ping') {
      this.socket?.send(encode(action.ping));
      return hb.intervalMs;
    }
    return action.inMs;
  }

  private armHeartbeat(): void {
    this.o.clock.clearTimeout(this.heartbeatTimer);
    if (this.state !== 'mining') return;
    const inMs = this.pollHeartbeat();
    if (inMs !== undefined) this.heartbeatTimer = this.o.clock.setTimeout(() => this.armHeartbeat(), inMs);
  }

  private onClose(code: number, reason: string): void {
    this.generation++;
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeat = undefined;
    this.socket = undefined;
    this.lastClose = { code, reason };
    if (this.state === 'stopped') return;
    if (code === CloseCode.UnsupportedVersion) {
      this.setState('refused');
      this.emit({ type: 'closed', code, reason, retryInMs: null });
      return;
    }
    const refused = REFUSALS.has(code) || this.refusal !== undefined;
    // Refusals repeat until the user fixes something: retry, but from the long end of the backoff curve.
    const retryInMs = backoffDelay(refused ? this.attempt + 6 : this.attempt, {
      baseMs: 500,
      maxMs: 30_000,
      ...(this.o.random ? { random: this.o.random } : {}),
    });
    this.attempt++;
    this.setState(refused ? 'refused' : 'waiting');
    this.emit({ type: 'closed', code, reason, retryInMs });
    this.retryAt = this.o.clock.now() + retryInMs;
    this.retryTimer = this.o.clock.setTimeout(() => {
      if (this.state === 'waiting' || this.state === 'refused') this.connect();
    }, retryInMs);
  }
}

/** Float rounding can leave a sum 1 ± 1e-16; the protocol allows 1e-6, but make the sum exact anyway. */
export function normalise(p: Probabilities): Probabilities {
  const s = p[0] + p[1] + p[2];
  const a = p[0] / s;
  const b = p[1] / s;
  return [a, b, Math.max(0, 1 - a - b)];
}
