/**
 * The validator's socket side: miners dial in, prove their hotkey, and receive challenge rounds. Everything it needs
 * (store, challenge factory, signer, registration check, clock) is passed in, so tests run it on loopback with a real
 * database, real media and real sockets.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AnswerMessage,
  CloseCode,
  closeCodeInSession,
  closeFrameFor,
  commitmentFor,
  cryptoReady,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_LIMITS,
  decodeText,
  encode,
  encodeMedia,
  ErrorCode,
  HeartbeatMonitor,
  type HelloMessage,
  MAX_REVEAL_ITEMS,
  type MediaMime,
  type Message,
  newSalt,
  pAI,
  PROTOCOL_VERSION,
  type ProtocolError,
  pongFor,
  type RevealItem,
  type Signer,
  signHello,
  transportMaxPayload,
  verifyAuth,
} from '@veracity/protocol';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { BundleTracker } from './bundle/miner-bundles.js';
import type { Registration } from './chain/metagraph.js';
import type { ChallengeFactory, PreparedChallenge, PreparedItem } from './challenges/factory.js';
import { type CopyOptions, type CopyReport, DEFAULT_COPY_OPTIONS, detectCopying, type RoundAnswers } from './copying.js';
import type { Metrics } from './status/metrics.js';
import { type AnswerLog, type Store } from './store.js';
import { type MinerStanding, minerStandings } from './scores.js';
import { DEFAULT_POLICY, type ScoringPolicy } from './scoring.js';
import type { Logger } from './log.js';
import { AddressGuard, DEFAULT_GUARD_LIMITS, type GuardLimits, normaliseIp, TokenBucket } from './guard.js';

export type CopyPolicy = 'flag' | 'share';

export interface ValidatorServerOptions {
  host: string;
  port: number;
  netuid: number;
  signer: Signer;
  store: Store;
  factory: ChallengeFactory;
  metrics: Metrics;
  log: Logger;
  /** Miners sampled per round. */
  sampleSize: number;
  timeoutMs: number;
  roundIntervalMs: number;
  heartbeatMs?: number;
  /**
   * Rounds per reveal window: after this many closed rounds every miner gets the labels and salts of the challenges
   * it was sent in them, in one `reveal` (default 10).
   */
  revealEveryRounds?: number;
  /**
   * Copy detection over the last `rounds` rounds (default 1000): 'flag' shows groups on the status page and /metrics;
   * 'share' also gives each group one miner's share of the weights (see copying.ts).
   */
  copy?: { policy: CopyPolicy; options?: CopyOptions; rounds?: number };
  /**
   * The model channel: what each miner declares in auth against what it committed on chain. A miner that is not
   * `published` has its score multiplied by the tracker's unpublishedShare. Default: no bundle checks.
   */
  bundles?: BundleTracker;
  /** Is this hotkey registered on the subnet (metagraph)? Default: everyone may mine (no chain configured). */
  registration?: (hotkey: string) => Registration;
  /** Extra HTTP routes (status page, /metrics) on the same port. A throw or rejection costs that request (500). */
  http?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /** Connection, rate and send limits (defaults: DEFAULT_GUARD_LIMITS). */
  limits?: Partial<GuardLimits>;
  policy?: ScoringPolicy;
  now?: () => number;
  random?: () => number;
}

interface Conn {
  ws: WebSocket;
  ip: string;
  hello: HelloMessage;
  hotkey?: string;
  uid?: number;
  heartbeat: HeartbeatMonitor;
  timer?: NodeJS.Timeout;
  messages: TokenBucket;
  /** Has this connection ever answered (or declined) a challenge? Until then rounds do not wait on it. */
  proven: boolean;
  /** Consecutive challenges it let expire; at `silentAfter` rounds stop waiting on it until it answers again. */
  misses: number;
}

/** One miner's part of a round: its own variant of the round's item, and the salt its label commitment hides. */
interface Slot {
  challenge: PreparedChallenge;
  salt: string;
}

/** Every miner sampled for a round gets its own variant (own id, bytes and commitment) of the same item. */
interface Round {
  item: Pick<PreparedItem, 'key' | 'label' | 'modality'>;
  deadline: number;
  /** hotkey -> its variant; sentAt holds when each was sent. */
  slots: Map<string, Slot>;
  sentAt: Map<string, number>;
  answers: Map<string, AnswerLog>;
  /** Hotkeys the round loop waits for before the next challenge; the others may still answer until the deadline. */
  waiting: Set<string>;
  /** Lets the round loop go on (everyone it waited for answered, or the round ended). */
  release: () => void;
  released: Promise<void>;
  /** Resolves when the round is closed: timeouts written, results sent. */
  closed: Promise<void>;
  close: () => void;
  timer?: NodeJS.Timeout;
}

/** A prepared round: the item and variants encoded ahead for the miners expected. */
interface Prepared {
  item: PreparedItem;
  variants: PreparedChallenge[];
}

/** Reveal items kept for a miner that is away when its window closes; the oldest go beyond this. */
const MAX_HELD_REVEALS = 4096;

/** Rounds open at once (the loop moves on while slow or unproven miners still have time): bounds held media. */
const MAX_OPEN_ROUNDS = 32;
/** Closed rounds remembered so a late answer gets E_LATE_ANSWER rather than E_UNKNOWN_CHALLENGE. */
const CLOSED_ROUNDS_KEPT = 256;
/** An abusive peer gets a close frame; if it does not read that either, its socket is destroyed after this. */
const CLOSE_GRACE_MS = 2000;
const CHALLENGE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export class ValidatorServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly byHotkey = new Map<string, Conn>();
  /** Open rounds by item key, and by the id of each miner's variant. */
  private readonly rounds = new Map<string, Round>();
  private readonly byChallenge = new Map<string, Round>();
  /** Labels and salts of closed challenges, per hotkey, waiting for the end of the reveal window. */
  private readonly unrevealed = new Map<string, RevealItem[]>();
  private windowIndex = 0;
  /** Names this run's reveal windows apart from an earlier run's on the same database. */
  private readonly startedAt: number;
  /** Miners holding items from a previous run: revealed as soon as each authenticates. */
  private readonly restored = new Set<string>();
  /** Recent closed rounds' in-time answers (P(AI) and arrival order by hotkey), for copy detection. */
  private readonly recent: RoundAnswers[] = [];
  private copyCache?: { at: number; report: CopyReport };
  /** Closed challenge id (one per miner's variant) -> the hotkey it was sent to (newest CLOSED_ROUNDS_KEPT). */
  private readonly closedRounds = new Map<string, Set<string>>();
  /** Answers received and not yet committed: written in one transaction per event-loop turn, before any send. */
  private unwritten: AnswerLog[] = [];
  private flushQueued = false;
  private readonly limits: GuardLimits;
  private readonly addresses: AddressGuard;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly heartbeatMs: number;
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  roundsRun = 0;

  constructor(private readonly o: ValidatorServerOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.heartbeatMs = o.heartbeatMs ?? 15_000;
    this.limits = { ...DEFAULT_GUARD_LIMITS, ...o.limits };
    this.addresses = new AddressGuard(this.limits);
    this.http = createServer((req, res) => this.onHttp(req, res));
    // Until it listens, listen() rejects with the error (EADDRINUSE): the caller reports it, once.
    this.http.on('error', (e) => this.http.listening && this.o.log.error('http server error', { error: e.message }));
    this.wss = new WebSocketServer({ server: this.http, maxPayload: transportMaxPayload('validator') });
    this.wss.on('connection', (ws, req) => this.accept(ws, req));
    this.wss.on('error', (e) => this.http.listening && this.o.log.error('websocket server error', { error: e.message }));
    this.startedAt = this.now();
    // Commitments a previous run sent and never revealed (it was killed, or the miner was away when it stopped): every
    // one of those challenges is closed now, so each miner gets its items as soon as it is back.
    for (const r of this.o.store.unrevealed(MAX_HELD_REVEALS)) {
      const held = this.unrevealed.get(r.hotkey) ?? [];
      held.push({ id: r.id, label: r.label as RevealItem['label'], salt: r.salt });
      this.unrevealed.set(r.hotkey, held);
      this.restored.add(r.hotkey);
    }
    if (this.restored.size > 0)
      this.o.log.info('unrevealed commitments from a previous run', {
        miners: this.restored.size,
        items: [...this.restored].reduce((n, h) => n + this.unrevealed.get(h)!.length, 0),
      });
  }

  /** One HTTP request: whatever the route handler throws or rejects costs that request (500), never the process. */
  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const fail = (e: unknown) => {
      this.o.log.error('http request failed', {
        method: req.method,
        url: (req.url ?? '').slice(0, 200),
        remote: req.socket.remoteAddress,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    };
    try {
      const r = this.o.http ? this.o.http(req, res) : void res.writeHead(404).end();
      if (r instanceof Promise) r.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  async listen(): Promise<string> {
    await cryptoReady();
    await new Promise<void>((ok, fail) => {
      this.http.once('error', fail);
      this.http.listen(this.o.port, this.o.host, () => ok());
    });
    const { port } = this.http.address() as AddressInfo;
    this.loop = this.roundLoop();
    this.o.log.info('validator listening', {
      url: `ws://${this.o.host}:${port}/`,
      netuid: this.o.netuid,
      hotkey: this.o.signer.address,
    });
    return `ws://${this.o.host}:${port}/`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Hotkeys with an authenticated connection. */
  connected(): string[] {
    return [...this.byHotkey.keys()];
  }

  /**
   * Every frame to a miner goes through here (media too), so two rules hold everywhere: answers received so far are
   * committed before anything goes out (an answer is never acknowledged, even implicitly, before it is durable), and
   * a peer whose unsent queue is over the send budget is closed instead of queued to (4011).
   */
  private sendRaw(c: Conn, data: string | Uint8Array): boolean {
    this.flush();
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    if (this.overBudget(c)) return false;
    c.ws.send(data);
    return true;
  }

  private overBudget(c: Conn): boolean {
    if (c.ws.bufferedAmount <= this.limits.sendBudgetBytes) return false;
    this.refuse(c, {
      code: ErrorCode.SlowReader,
      message: `${c.ws.bufferedAmount} bytes wait unread (budget ${this.limits.sendBudgetBytes})`,
    });
    return true;
  }

  private send(c: Conn, m: Message): void {
    this.sendRaw(c, encode(m));
  }

  /** A non-fatal `error` about one message; the text is cut to what the protocol allows. */
  private reply(c: Conn, code: ErrorCode, message: string, ref?: string): void {
    this.send(c, {
      v: PROTOCOL_VERSION,
      type: 'error',
      code,
      message: message.slice(0, 1024) || code,
      ...(ref !== undefined && CHALLENGE_ID.test(ref) ? { ref } : {}),
    });
  }

  private refuse(c: Conn, error: ProtocolError): void {
    // Once closing, a connection is refused no more: one refusal, counted once, per connection.
    if (c.ws.readyState !== WebSocket.OPEN) return;
    this.o.metrics.protocolErrors.inc({ code: error.code });
    // Every refusal ends the connection, including E_INTERNAL (1011): closeFrameFor picks the code.
    const { code, reason } = closeFrameFor(error);
    c.ws.close(code, reason);
    // A peer that does not read will not read the close frame either: do not hold its queue for ws's 30 s.
    setTimeout(() => c.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    if (this.stopping) return void ws.close(CloseCode.Shutdown, `${ErrorCode.Shutdown}: validator is shutting down`);
    const ip = normaliseIp(req.socket.remoteAddress);
    const admitted = this.addresses.admit(ip, this.now());
    if (!admitted.ok) {
      // Refused before the hello is signed: a flood costs no signature work.
      this.o.metrics.protocolErrors.inc({ code: ErrorCode.RateLimited });
      ws.close(CloseCode.RateLimited, closeFrameFor({ code: ErrorCode.RateLimited, message: admitted.reason }).reason);
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      return;
    }
    ws.once('close', () => this.addresses.release(ip));
    const hello = signHello(this.o.signer, { netuid: this.o.netuid, timestamp: this.now() });
    const c: Conn = {
      ws,
      ip,
      hello,
      heartbeat: new HeartbeatMonitor({ intervalMs: this.heartbeatMs, now: this.now }),
      messages: new TokenBucket(this.limits.messages.perSecond, this.limits.messages.burst, this.now()),
      proven: false,
      misses: 0,
    };
    this.conns.add(c);
    this.sendRaw(c, encode(hello));
    c.timer = setTimeout(() => {
      if (!c.hotkey) this.refuse(c, { code: ErrorCode.HandshakeTimeout, message: 'no valid auth in time' });
    }, DEFAULT_HANDSHAKE_TIMEOUT_MS);
    ws.on('message', (data, isBinary) => this.onFrame(c, data, isBinary));
    ws.on('close', () => this.drop(c));
    ws.on('error', () => this.drop(c));
  }

  private drop(c: Conn): void {
    clearTimeout(c.timer);
    this.conns.delete(c);
    if (c.hotkey && this.byHotkey.get(c.hotkey) === c) {
      this.byHotkey.delete(c.hotkey);
      this.o.metrics.minersConnected.set(this.byHotkey.size);
      // Nobody waits on a miner that has gone; its slots expire as timeouts at their deadlines.
      for (const round of this.rounds.values()) if (round.waiting.delete(c.hotkey)) this.maybeRelease(round);
    }
  }

  private onFrame(c: Conn, data: RawData, isBinary: boolean): void {
    try {
      // Frames that were already in flight when the connection was refused are not read.
      if (c.ws.readyState !== WebSocket.OPEN) return;
      c.heartbeat.onInbound();
      if (!c.messages.take(this.now())) {
        return this.refuse(c, {
          code: ErrorCode.RateLimited,
          message: `more than ${this.limits.messages.perSecond} messages a second`,
        });
      }
      if (isBinary) return this.refuse(c, { code: ErrorCode.UnexpectedMessage, message: 'miners send text frames only' });
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      const decoded = decodeText(text, DEFAULT_LIMITS, { from: 'miner' });
      if (!decoded.ok) return this.onBadMessage(c, text, decoded.error);
      const m = decoded.message;
      if (!c.hotkey) {
        if (m.type !== 'auth')
          return this.refuse(c, { code: ErrorCode.UnexpectedMessage, message: `expected auth, got ${m.type}` });
        return this.authenticate(c, m);
      }
      switch (m.type) {
        case 'answer':
          return this.onAnswer(c, m);
        case 'ping':
          return this.send(c, pongFor(m));
        case 'pong':
          c.heartbeat.onPong(m);
          return;
        case 'error':
          if (m.code === ErrorCode.RevealMismatch) {
            // A miner says our reveal did not open our commitment: evidence against this validator, so loud.
            this.o.metrics.revealMismatches.inc();
            this.o.log.warn('miner reports a reveal mismatch', { hotkey: c.hotkey, ref: m.ref, message: m.message });
            return;
          }
          this.o.log.debug('miner reported an error', { hotkey: c.hotkey, code: m.code, message: m.message, ref: m.ref });
          // A declined challenge is scored as unanswered now, so the round does not wait for the deadline on it.
          if (m.code === ErrorCode.Declined && m.ref !== undefined) this.recordAnswer(c, m.ref, null, 'timeout', true);
          return;
        case 'bye':
          return void c.ws.close(CloseCode.Normal);
        default:
          return this.refuse(c, { code: ErrorCode.UnexpectedMessage, message: `unexpected ${m.type}` });
      }
    } catch (e) {
      // A bug here must cost one connection, never the validator.
      this.o.log.error('frame handler failed', {
        hotkey: c.hotkey,
        ip: c.ip,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
      this.refuse(c, { code: ErrorCode.Internal, message: 'internal error' });
    }
  }

  /**
   * A frame that does not decode. In an open session a malformed message (E_BAD_MESSAGE, E_BAD_PROBABILITIES) costs
   * that message: an `error` reply, and an answer to a challenge this miner holds is scored invalid. Anything else,
   * and anything before `welcome`, closes the connection. Counted once in metrics either way.
   */
  private onBadMessage(c: Conn, text: string, error: ProtocolError): void {
    if (!c.hotkey) {
      if (error.code === ErrorCode.BadProbabilities)
        return this.refuse(c, { code: ErrorCode.UnexpectedMessage, message: 'answer before auth' });
      return this.refuse(c, error);
    }
    if (closeCodeInSession(error.code) !== undefined) return this.refuse(c, error);
    this.o.metrics.protocolErrors.inc({ code: error.code });
    const { type, id } = sniffMessage(text);
    if (type === 'answer' && id !== undefined) this.recordAnswer(c, id, null, 'invalid', true);
    this.reply(c, error.code, error.message, id);
  }

  private authenticate(c: Conn, auth: Extract<Message, { type: 'auth' }>): void {
    const result = verifyAuth({
      auth,
      netuid: this.o.netuid,
      validatorHotkey: this.o.signer.address,
      nonce: c.hello.nonce,
      now: this.now(),
    });
    if (!result.ok) return this.refuse(c, result.error);
    const reg = this.o.registration ? this.o.registration(result.hotkey) : { ok: true };
    if (!reg.ok) {
      return this.refuse(c, {
        code: ErrorCode.UnregisteredHotkey,
        message: `${result.hotkey} is not registered on netuid ${this.o.netuid}`,
      });
    }
    clearTimeout(c.timer);
    const previous = this.byHotkey.get(result.hotkey);
    if (previous) this.refuse(previous, { code: ErrorCode.Replaced, message: 'a newer connection of this hotkey took over' });
    c.hotkey = result.hotkey;
    c.uid = reg.uid;
    this.byHotkey.set(result.hotkey, c);
    this.o.store.upsertMiner(result.hotkey, this.now(), reg.uid);
    this.o.bundles?.declare(result.hotkey, auth.bundleSha256);
    this.o.metrics.minersConnected.set(this.byHotkey.size);
    this.send(c, {
      v: PROTOCOL_VERSION,
      type: 'welcome',
      sessionId: randomUUID(),
      heartbeatMs: this.heartbeatMs,
      limits: { ...DEFAULT_LIMITS },
      ...(reg.uid === undefined ? {} : { uid: reg.uid }),
    });
    this.armHeartbeat(c);
    this.o.log.info('miner connected', { hotkey: result.hotkey, uid: reg.uid, signature: result.form });
    if (this.restored.delete(result.hotkey)) this.reveal([result.hotkey], `w-${this.startedAt.toString(36)}-restored`);
  }

  private armHeartbeat(c: Conn): void {
    const action = c.heartbeat.poll();
    if (action.action === 'dead')
      return this.refuse(c, { code: ErrorCode.HeartbeatTimeout, message: `silent for ${action.silentMs} ms` });
    if (action.action === 'ping') this.send(c, action.ping);
    // Checked here too, so a peer that stopped reading is closed between rounds, not only when a challenge is due.
    else if (this.overBudget(c)) return;
    c.timer = setTimeout(() => this.armHeartbeat(c), action.action === 'wait' ? action.inMs : this.heartbeatMs);
  }

  private onAnswer(c: Conn, a: AnswerMessage): void {
    const hotkey = c.hotkey!;
    const round = this.byChallenge.get(a.id);
    if (!round || round.slots.get(hotkey)?.challenge.id !== a.id) {
      if (this.closedRounds.get(a.id)?.has(hotkey)) {
        // Not scored, but the miner is alive: rounds wait on it again.
        c.misses = 0;
        return this.reply(c, ErrorCode.LateAnswer, `challenge ${a.id} closed at its deadline`, a.id);
      }
      return this.reply(c, ErrorCode.UnknownChallenge, `no challenge ${a.id} is open for you`, a.id);
    }
    if (round.answers.has(hotkey)) return this.reply(c, ErrorCode.DuplicateAnswer, 'only the first answer counts', a.id);
    if (this.now() > round.deadline) {
      c.misses = 0;
      return this.reply(c, ErrorCode.LateAnswer, 'the deadline has passed', a.id);
    }
    this.recordAnswer(c, a.id, pAI(a.probabilities), 'ok', true);
  }

  /** Records one slot of an open round; `responded` marks the miner alive (an answer, an invalid one, a decline). */
  private recordAnswer(c: Conn, id: string, ai: number | null, outcome: AnswerLog['outcome'], responded: boolean): void {
    const round = this.byChallenge.get(id);
    const hotkey = c.hotkey!;
    if (!round || round.slots.get(hotkey)?.challenge.id !== id || round.answers.has(hotkey)) return;
    if (responded) {
      c.proven = true;
      c.misses = 0;
    }
    const at = this.now();
    const answer: AnswerLog = {
      hotkey,
      challengeId: id,
      modality: round.item.modality,
      truth: round.item.label === 'real' ? 0 : 1,
      ai: ai === null ? null : Math.min(1, Math.max(0, ai)),
      outcome,
      latencyMs: at - round.sentAt.get(hotkey)!,
      at,
    };
    round.answers.set(hotkey, answer);
    this.queueWrite(answer);
    this.o.metrics.answerLatency.observe((at - round.sentAt.get(hotkey)!) / 1000);
    round.waiting.delete(hotkey);
    if (round.answers.size === round.sentAt.size) this.closeRound(round);
    else this.maybeRelease(round);
  }

  /**
   * Answers are durable when received: queued here and committed in one transaction at the end of this event-loop
   * turn, or earlier when anything is about to be sent (sendRaw). A SIGKILL can lose only answers whose frames the
   * validator had not yet read; a restart on the same database finds every answer it had acknowledged.
   */
  private queueWrite(answer: AnswerLog): void {
    this.unwritten.push(answer);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.unwritten.length === 0) return;
    const batch = this.unwritten;
    this.unwritten = [];
    try {
      this.o.store.recordAnswers(batch);
    } catch (e) {
      // A full disk must not lose what we hold: keep the batch and try again on the next flush.
      this.unwritten = batch.concat(this.unwritten);
      this.o.log.error('cannot write answers; keeping them to retry', {
        answers: this.unwritten.length,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private maybeRelease(round: Round): void {
    if (round.waiting.size === 0) round.release();
  }

  /**
   * Rounds run back to back, `roundIntervalMs` apart; the next round's item and its variants (one per miner expected)
   * are prepared while the current round runs, so dispatch waits only for variants beyond that count.
   */
  private async roundLoop(): Promise<void> {
    let next = this.prepare();
    while (!this.stopping) {
      const started = this.now();
      const open = [...this.byHotkey.values()].filter((c) => c.ws.readyState === WebSocket.OPEN);
      if (open.length > 0) {
        while (this.rounds.size >= MAX_OPEN_ROUNDS && !this.stopping)
          await Promise.race([...this.rounds.values()].map((r) => r.closed));
        const prepared = await next.catch((e: unknown) => {
          this.o.log.error('cannot prepare a challenge', { error: e instanceof Error ? e.message : String(e) });
          return null;
        });
        if (this.stopping) break;
        next = this.prepare();
        if (prepared) await this.runRound(prepared, this.sample(open));
      }
      const wait = Math.max(0, this.o.roundIntervalMs - (this.now() - started));
      await new Promise<void>((ok) => {
        this.wake = ok;
        setTimeout(ok, open.length > 0 ? wait : Math.min(wait, 250));
      });
    }
    await next.catch(() => undefined);
  }

  private async prepare(): Promise<Prepared> {
    const t0 = performance.now();
    const item = await this.o.factory.item();
    this.o.metrics.challengeItems.inc({ label: item.label, origin: item.origin, modality: item.modality });
    const expected = Math.max(1, Math.min(this.o.sampleSize, this.byHotkey.size));
    const variants = await this.o.factory.variants(item, expected);
    this.o.metrics.prepareSeconds.observe((performance.now() - t0) / 1000 / expected);
    return { item, variants };
  }

  /** Miners the round loop waits on: proven (answered at least once) and not silent for `silentAfter` challenges. */
  private active(c: Conn): boolean {
    return c.proven && c.misses < this.limits.silentAfter;
  }

  /**
   * At most sampleSize miners: active ones first, in random order, then the rest (new or silent miners, which keep
   * being challenged so they can prove themselves) in random order.
   */
  private sample(open: Conn[]): Conn[] {
    const shuffled = (a: Conn[]) => {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    };
    const ranked = [...shuffled(open.filter((c) => this.active(c))), ...shuffled(open.filter((c) => !this.active(c)))];
    return ranked.slice(0, this.o.sampleSize);
  }

  /**
   * Sends one challenge and waits until every active miner in it has answered (or the deadline). New and silent
   * miners get the challenge too and may answer until the deadline, but the next round does not wait on them, so
   * miners that never answer cannot stretch every round to the timeout; when none of the miners is active, the
   * round waits on all of them. The round closes (timeouts written, results sent) at its deadline or once everyone
   * answered, whichever is first.
   */
  private async runRound(prepared: Prepared, miners: Conn[]): Promise<void> {
    const { item } = prepared;
    // More miners than variants prepared ahead (miners joined meanwhile): encode the rest now.
    const variants = [...prepared.variants];
    if (variants.length < miners.length) variants.push(...(await this.o.factory.variants(item, miners.length - variants.length)));
    const sentAt = this.now();
    const deadline = sentAt + this.o.timeoutMs;
    let release!: () => void;
    let close!: () => void;
    const released = new Promise<void>((ok) => (release = ok));
    const closed = new Promise<void>((ok) => (close = ok));
    const round: Round = {
      item,
      deadline,
      slots: new Map(),
      sentAt: new Map(),
      answers: new Map(),
      waiting: new Set(),
      release,
      released,
      close,
      closed,
    };
    this.rounds.set(item.key, round);
    const waitAll = !miners.some((c) => this.active(c));
    const slots = miners.map((c, i) => ({ c, challenge: variants[i]!, salt: newSalt() }));
    // Every variant's label and salt are on disk before its commitment goes out, in one transaction per round: a
    // validator killed at any moment after this can still reveal every commitment a miner received (durable reveals).
    this.o.store.logChallenges(
      slots.map(({ c, challenge, salt }) => ({
        id: challenge.id,
        hotkey: c.hotkey!,
        salt,
        label: challenge.label,
        modality: challenge.modality,
        level: challenge.augment.level,
        sourcePath: challenge.source.path,
        sourceGroup: challenge.source.group,
        createdAt: sentAt,
        deadline,
      })),
    );
    const unsent: string[] = [];
    for (const { c, challenge, salt } of slots) {
      const header = encode({
        v: PROTOCOL_VERSION,
        type: 'challenge',
        id: challenge.id,
        modality: challenge.modality,
        frames: challenge.media.length,
        deadlineMs: deadline,
        timeoutMs: this.o.timeoutMs,
        commitment: commitmentFor(challenge.id, challenge.label, salt),
      });
      if (!this.sendRaw(c, header)) {
        unsent.push(challenge.id);
        continue;
      }
      const hotkey = c.hotkey!;
      round.slots.set(hotkey, { challenge, salt });
      round.sentAt.set(hotkey, this.now());
      this.byChallenge.set(challenge.id, round);
      if (waitAll || this.active(c)) round.waiting.add(hotkey);
      challenge.media.forEach((m, index) =>
        c.ws.send(
          encodeMedia({ challengeId: challenge.id, index, count: challenge.media.length, mime: challenge.mime as MediaMime }, m),
        ),
      );
    }
    // A miner that went away between the log and its send never saw the commitment: nothing to reveal to it.
    if (unsent.length > 0) this.o.store.forgetUnsent(unsent);
    this.o.metrics.rounds.inc();
    if (round.sentAt.size === 0) this.closeRound(round);
    else round.timer = setTimeout(() => this.closeRound(round), Math.max(0, deadline - this.now()));
    this.maybeRelease(round);
    await released;
  }

  private closeRound(round: Round): void {
    const { item } = round;
    if (this.rounds.get(item.key) !== round) return;
    clearTimeout(round.timer);
    this.rounds.delete(item.key);
    const truth = item.label === 'real' ? 0 : 1;
    const timeouts: AnswerLog[] = [];
    for (const [hotkey, at] of round.sentAt) {
      if (round.answers.has(hotkey)) continue;
      const timeout: AnswerLog = {
        hotkey,
        challengeId: round.slots.get(hotkey)!.challenge.id,
        modality: item.modality,
        truth,
        ai: null,
        outcome: 'timeout',
        latencyMs: null,
        at,
      };
      round.answers.set(hotkey, timeout);
      timeouts.push(timeout);
      const c = this.byHotkey.get(hotkey);
      if (c) c.misses++;
    }
    for (const t of timeouts) this.unwritten.push(t);
    this.flush();
    for (const [hotkey, slot] of round.slots) {
      this.byChallenge.delete(slot.challenge.id);
      this.closedRounds.set(slot.challenge.id, new Set([hotkey]));
      if (this.closedRounds.size > CLOSED_ROUNDS_KEPT) this.closedRounds.delete(this.closedRounds.keys().next().value!);
      const held = this.unrevealed.get(hotkey) ?? [];
      held.push({ id: slot.challenge.id, label: slot.challenge.label, salt: slot.salt });
      if (held.length > MAX_HELD_REVEALS) held.splice(0, held.length - MAX_HELD_REVEALS);
      this.unrevealed.set(hotkey, held);
    }
    const answers = [...round.answers.values()];
    const ok = answers.filter((a) => a.outcome === 'ok' && a.ai !== null);
    if (ok.length > 1) {
      this.recent.push({
        truth,
        answers: new Map(ok.map((a) => [a.hotkey, a.ai!])),
        // Answers are kept in arrival order (timeouts are appended at close): the rank is who answered first.
        arrival: new Map(ok.map((a, rank) => [a.hotkey, rank])),
      });
      if (this.recent.length > (this.o.copy?.rounds ?? 1000)) this.recent.shift();
    }
    this.roundsRun++;
    for (const a of answers) {
      this.o.metrics.answers.inc({ outcome: a.outcome, modality: a.modality });
      const c = this.byHotkey.get(a.hotkey);
      // A receipt only: what was recorded, never the label or whether the answer was right (that is the label).
      if (c) {
        this.send(c, {
          v: PROTOCOL_VERSION,
          type: 'result',
          id: a.challengeId,
          outcome: a.outcome,
          ...(a.latencyMs === null ? {} : { ms: a.latencyMs }),
        });
      }
    }
    if (this.roundsRun % (this.o.revealEveryRounds ?? 10) === 0) this.revealWindow();
    round.release();
    round.close();
  }

  /**
   * Ends a reveal window: every connected miner gets the labels and salts of its closed challenges (several messages
   * only past MAX_REVEAL_ITEMS). A miner that is away keeps its items until it is back. Only closed challenges are
   * ever revealed, so a reveal never helps with an answer that still counts.
   */
  revealWindow(): void {
    this.reveal([...this.unrevealed.keys()], `w-${this.startedAt.toString(36)}-${++this.windowIndex}`);
  }

  /**
   * Reveals the held items of those of `hotkeys` that are connected: all marked revealed on disk first, in one
   * transaction (a restart must not reveal them twice; one commit per miner would hold the event loop ≈ 7 ms per
   * miner every window), then sent.
   */
  private reveal(hotkeys: string[], window: string): void {
    const due = hotkeys.flatMap((hotkey) => {
      const items = this.unrevealed.get(hotkey);
      const c = this.byHotkey.get(hotkey);
      return items && c && c.ws.readyState === WebSocket.OPEN ? [{ hotkey, c, items }] : [];
    });
    if (due.length === 0) return;
    this.o.store.markRevealed(
      due.flatMap((d) => d.items.map((x) => x.id)),
      window,
    );
    for (const { hotkey, c, items } of due) {
      for (let i = 0; i < items.length; i += MAX_REVEAL_ITEMS) {
        this.send(c, { v: PROTOCOL_VERSION, type: 'reveal', window, items: items.slice(i, i + MAX_REVEAL_ITEMS) });
      }
      this.o.metrics.revealed.inc(items.length);
      this.unrevealed.delete(hotkey);
    }
  }

  /** Current scores and normalised weights of every known miner (see scores.ts), exported to /metrics too. */
  scores(): Map<string, MinerStanding> {
    const share = this.o.copy?.policy === 'share' ? this.copying() : null;
    // A miner not running the bundle it published is scored as unpublished (the share is 1 unless configured).
    const bundles = this.o.bundles;
    const factor = bundles ? (hotkey: string) => bundles.factor(hotkey) : undefined;
    const standings = minerStandings(this.o.store, this.o.policy ?? DEFAULT_POLICY, share, factor);
    for (const [hotkey, s] of standings) this.o.metrics.minerScore.set({ hotkey }, s.detail.score);
    return standings;
  }

  /** Copy detection over the recent rounds (recomputed once per closed round at most); groups exported to /metrics. */
  copying(): CopyReport {
    if (this.copyCache?.at !== this.roundsRun) {
      const report = detectCopying(this.recent, this.o.copy?.options ?? DEFAULT_COPY_OPTIONS);
      this.o.metrics.copyGroupSize.reset();
      for (const g of report.groups) for (const h of g) this.o.metrics.copyGroupSize.set({ hotkey: h }, g.length);
      this.copyCache = { at: this.roundsRun, report };
    }
    return this.copyCache.report;
  }

  /** Stops rounds, tells miners to come back later (4009), closes sockets and the port. */
  async close(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const r of this.rounds.values()) r.release();
    await this.loop;
    for (const r of [...this.rounds.values()]) this.closeRound(r);
    this.flush();
    // Whatever closed since the last window is revealed before the goodbye, so no commitment is left unopened.
    this.revealWindow();
    for (const c of this.conns) {
      this.send(c, { v: PROTOCOL_VERSION, type: 'bye', reason: 'validator shutting down' });
      clearTimeout(c.timer);
      c.ws.close(CloseCode.Shutdown, `${ErrorCode.Shutdown}: validator is shutting down`);
    }
    await new Promise<void>((ok) => this.wss.close(() => ok()));
    for (const c of this.conns) c.ws.terminate();
    // A status page left open polls /api/status over keep-alive connections; close() alone waits them out.
    await new Promise<void>((ok) => {
      this.http.close(() => ok());
      this.http.closeAllConnections();
    });
  }
}

/** `type` and a well-formed `id` of a text frame that failed to decode, as far as they can be read (even from bad JSON). */
export function sniffMessage(text: string): { type?: string; id?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON (a NaN literal, a cut frame): read the two fields textually; both are short and anchored.
    const type = /"type"\s*:\s*"([a-z]{1,32})"/.exec(text)?.[1];
    const id = /"id"\s*:\s*"([A-Za-z0-9._:-]{1,64})"/.exec(text)?.[1];
    return { ...(type === undefined ? {} : { type }), ...(id === undefined ? {} : { id }) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const { type, id } = value as Record<string, unknown>;
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof id === 'string' && CHALLENGE_ID.test(id) ? { id } : {}),
  };
}
