/**
 * The validator's socket side: miners dial in, prove their hotkey, and receive challenge rounds. Everything it needs
 * (store, challenge factory, signer, registration check, clock) is passed in, so tests run it on loopback with a real
 * database, real media and real sockets.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AnswerMessage,
  CloseCode,
  closeFrameFor,
  cryptoReady,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_LIMITS,
  decodeText,
  encode,
  encodeMedia,
  ErrorCode,
  HeartbeatMonitor,
  type HelloMessage,
  type MediaMime,
  type Message,
  PROTOCOL_VERSION,
  type ProtocolError,
  pongFor,
  type Signer,
  signHello,
  transportMaxPayload,
  verifyAuth,
} from '@veracity/protocol';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { ChallengeFactory, PreparedChallenge } from './challenges/factory.js';
import type { Metrics } from './status/metrics.js';
import { type AnswerLog, type Store } from './store.js';
import { DEFAULT_POLICY, normaliseWeights, scoreMiner, type ScoringPolicy } from './scoring.js';
import type { Logger } from './log.js';

export interface Registration {
  ok: boolean;
  uid?: number;
}

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
  /** Is this hotkey registered on the subnet (metagraph)? Default: everyone may mine (no chain configured). */
  registration?: (hotkey: string) => Registration;
  /** Extra HTTP routes (status page, /metrics) on the same port. */
  http?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  policy?: ScoringPolicy;
  now?: () => number;
  random?: () => number;
}

interface Conn {
  ws: WebSocket;
  hello: HelloMessage;
  hotkey?: string;
  uid?: number;
  heartbeat: HeartbeatMonitor;
  timer?: NodeJS.Timeout;
  /** Challenges sent to this miner and not yet answered or expired: id -> sent at. */
  pending: Map<string, number>;
}

interface Round {
  challenge: PreparedChallenge;
  deadline: number;
  sentAt: Map<string, number>;
  answers: Map<string, AnswerLog>;
  done: () => void;
}

export class ValidatorServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly byHotkey = new Map<string, Conn>();
  private readonly rounds = new Map<string, Round>();
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
    this.http = createServer((req, res) => (o.http ? o.http(req, res) : res.writeHead(404).end()));
    this.wss = new WebSocketServer({ server: this.http, maxPayload: transportMaxPayload('validator') });
    this.wss.on('connection', (ws) => this.accept(ws));
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

  private send(c: Conn, m: Message): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(encode(m));
  }

  private refuse(c: Conn, error: ProtocolError): void {
    this.o.metrics.protocolErrors.inc({ code: error.code });
    // Every refusal ends the connection, including E_INTERNAL (1011): closeFrameFor picks the code.
    const { code, reason } = closeFrameFor(error);
    if (c.ws.readyState === WebSocket.OPEN) c.ws.close(code, reason);
  }

  private accept(ws: WebSocket): void {
    if (this.stopping) return void ws.close(CloseCode.Shutdown, `${ErrorCode.Shutdown}: validator is shutting down`);
    const hello = signHello(this.o.signer, { netuid: this.o.netuid, timestamp: this.now() });
    const c: Conn = {
      ws,
      hello,
      heartbeat: new HeartbeatMonitor({ intervalMs: this.heartbeatMs, now: this.now }),
      pending: new Map(),
    };
    this.conns.add(c);
    ws.send(encode(hello));
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
    }
  }

  private onFrame(c: Conn, data: RawData, isBinary: boolean): void {
    try {
      c.heartbeat.onInbound();
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
          this.o.log.debug('miner reported an error', { hotkey: c.hotkey, code: m.code, message: m.message, ref: m.ref });
          // A declined challenge is scored as unanswered now, so the round does not wait for the deadline on it.
          if (m.code === ErrorCode.Declined && m.ref !== undefined) this.recordAnswer(c, m.ref, null, 'timeout');
          return;
        case 'bye':
          return void c.ws.close(CloseCode.Normal);
        default:
          return this.refuse(c, { code: ErrorCode.UnexpectedMessage, message: `unexpected ${m.type}` });
      }
    } catch (e) {
      // A bug here must cost one connection, never the validator.
      this.o.log.error('frame handler failed', { error: e instanceof Error ? e.message : String(e) });
      this.refuse(c, { code: ErrorCode.Internal, message: 'internal error' });
    }
  }

  /** Non-fatal decode errors answer with `error`; an answer with bad probabilities still counts, as invalid. */
  private onBadMessage(c: Conn, text: string, error: ProtocolError): void {
    this.o.metrics.protocolErrors.inc({ code: error.code });
    if (error.code === ErrorCode.BadProbabilities && c.hotkey) {
      let id: unknown;
      try {
        id = (JSON.parse(text) as { id?: unknown }).id;
      } catch {
        id = undefined;
      }
      if (typeof id === 'string') this.recordAnswer(c, id, null, 'invalid');
      this.send(c, {
        v: PROTOCOL_VERSION,
        type: 'error',
        code: error.code,
        message: error.message,
        ...(typeof id === 'string' ? { ref: id } : {}),
      });
      return;
    }
    if (error.code === ErrorCode.BadProbabilities)
      return this.refuse(c, { code: ErrorCode.UnexpectedMessage, message: 'answer before auth' });
    this.refuse(c, error);
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
  }

  private armHeartbeat(c: Conn): void {
    const action = c.heartbeat.poll();
    if (action.action === 'dead')
      return this.refuse(c, { code: ErrorCode.HeartbeatTimeout, message: `silent for ${action.silentMs} ms` });
    if (action.action === 'ping') this.send(c, action.ping);
    c.timer = setTimeout(() => this.armHeartbeat(c), action.action === 'wait' ? action.inMs : this.heartbeatMs);
  }

  private onAnswer(c: Conn, a: AnswerMessage): void {
    const round = this.rounds.get(a.id);
    if (!round || !round.sentAt.has(c.hotkey!)) {
      return this.send(c, {
        v: PROTOCOL_VERSION,
        type: 'error',
        code: ErrorCode.UnknownChallenge,
        message: `no challenge ${a.id} is open for you`,
        ref: a.id,
      });
    }
    if (round.answers.has(c.hotkey!)) {
      return this.send(c, {
        v: PROTOCOL_VERSION,
        type: 'error',
        code: ErrorCode.DuplicateAnswer,
        message: 'only the first answer counts',
        ref: a.id,
      });
    }
    if (this.now() > round.deadline) {
      return this.send(c, {
        v: PROTOCOL_VERSION,
        type: 'error',
        code: ErrorCode.LateAnswer,
        message: 'the deadline has passed',
        ref: a.id,
      });
    }
    this.recordAnswer(c, a.id, a.probabilities[1] + a.probabilities[2], 'ok');
  }

  private recordAnswer(c: Conn, id: string, ai: number | null, outcome: AnswerLog['outcome']): void {
    const round = this.rounds.get(id);
    const hotkey = c.hotkey!;
    if (!round || !round.sentAt.has(hotkey) || round.answers.has(hotkey)) return;
    const at = this.now();
    round.answers.set(hotkey, {
      hotkey,
      challengeId: id,
      modality: round.challenge.modality,
      truth: round.challenge.label === 'real' ? 0 : 1,
      ai: ai === null ? null : Math.min(1, Math.max(0, ai)),
      outcome,
      latencyMs: at - round.sentAt.get(hotkey)!,
      at,
    });
    this.o.metrics.answerLatency.observe((at - round.sentAt.get(hotkey)!) / 1000);
    if (round.answers.size === round.sentAt.size) round.done();
  }

  /** Rounds run back to back, `roundIntervalMs` apart; the next challenge is prepared while the current round runs. */
  private async roundLoop(): Promise<void> {
    let next = this.prepare();
    while (!this.stopping) {
      const started = this.now();
      const open = [...this.byHotkey.values()].filter((c) => c.ws.readyState === WebSocket.OPEN);
      if (open.length > 0) {
        const challenge = await next.catch((e: unknown) => {
          this.o.log.error('cannot prepare a challenge', { error: e instanceof Error ? e.message : String(e) });
          return null;
        });
        next = this.prepare();
        if (challenge) await this.runRound(challenge, this.sample(open));
      }
      const wait = Math.max(0, this.o.roundIntervalMs - (this.now() - started));
      await new Promise<void>((ok) => {
        this.wake = ok;
        setTimeout(ok, open.length > 0 ? wait : Math.min(wait, 250));
      });
    }
    await next.catch(() => undefined);
  }

  private async prepare(): Promise<PreparedChallenge> {
    const t0 = performance.now();
    const c = await this.o.factory.next();
    this.o.metrics.prepareSeconds.observe((performance.now() - t0) / 1000);
    return c;
  }

  /** A uniform random sample of at most sampleSize miners (partial Fisher-Yates). */
  private sample(open: Conn[]): Conn[] {
    const a = [...open];
    const n = Math.min(this.o.sampleSize, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.random() * (a.length - i));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a.slice(0, n);
  }

  private async runRound(challenge: PreparedChallenge, miners: Conn[]): Promise<void> {
    const sentAt = this.now();
    const deadline = sentAt + this.o.timeoutMs;
    let done!: () => void;
    const finished = new Promise<void>((ok) => (done = ok));
    const round: Round = { challenge, deadline, sentAt: new Map(), answers: new Map(), done };
    this.rounds.set(challenge.id, round);
    this.o.store.logChallenge({
      id: challenge.id,
      label: challenge.label,
      modality: challenge.modality,
      level: challenge.augment.level,
      sourcePath: challenge.source.path,
      sourceGroup: challenge.source.group,
      createdAt: sentAt,
      deadline,
    });
    const frames = challenge.media.map((m, index) =>
      encodeMedia({ challengeId: challenge.id, index, count: challenge.media.length, mime: challenge.mime as MediaMime }, m),
    );
    const header = encode({
      v: PROTOCOL_VERSION,
      type: 'challenge',
      id: challenge.id,
      modality: challenge.modality,
      frames: frames.length,
      deadlineMs: deadline,
      timeoutMs: this.o.timeoutMs,
    });
    for (const c of miners) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      round.sentAt.set(c.hotkey!, this.now());
      c.ws.send(header);
      for (const f of frames) c.ws.send(f);
    }
    this.o.metrics.rounds.inc();
    if (round.sentAt.size === 0) done();
    const timer = setTimeout(done, Math.max(0, deadline - this.now()));
    await finished;
    clearTimeout(timer);
    this.closeRound(round);
  }

  private closeRound(round: Round): void {
    const { challenge } = round;
    const truth = challenge.label === 'real' ? 0 : 1;
    for (const [hotkey, at] of round.sentAt) {
      if (!round.answers.has(hotkey)) {
        round.answers.set(hotkey, {
          hotkey,
          challengeId: challenge.id,
          modality: challenge.modality,
          truth,
          ai: null,
          outcome: 'timeout',
          latencyMs: null,
          at,
        });
      }
    }
    const answers = [...round.answers.values()];
    this.o.store.recordAnswers(answers);
    this.rounds.delete(challenge.id);
    this.roundsRun++;
    for (const a of answers) {
      this.o.metrics.answers.inc({ outcome: a.outcome, modality: a.modality });
      const c = this.byHotkey.get(a.hotkey);
      if (c) {
        const correct = a.ai === null ? false : (a.ai >= 0.5 ? 1 : 0) === truth;
        this.send(c, {
          v: PROTOCOL_VERSION,
          type: 'result',
          id: challenge.id,
          label: challenge.label,
          correct,
          ...(a.latencyMs === null ? {} : { ms: a.latencyMs }),
        });
      }
    }
  }

  /** Current scores and normalised weights of every known miner. */
  scores(): Map<string, { score: number; weight: number; detail: ReturnType<typeof scoreMiner>; uid: number | null }> {
    const policy = this.o.policy ?? DEFAULT_POLICY;
    const per = new Map<string, { score: number; detail: ReturnType<typeof scoreMiner>; uid: number | null }>();
    for (const m of this.o.store.miners()) {
      const records = [
        ...this.o.store.window(m.hotkey, 'image', policy.window),
        ...this.o.store.window(m.hotkey, 'video', policy.window),
      ];
      const detail = scoreMiner(records, policy);
      per.set(m.hotkey, { score: detail.score, detail, uid: m.uid });
      this.o.metrics.minerScore.set({ hotkey: m.hotkey }, detail.score);
    }
    const weights = normaliseWeights(new Map([...per].map(([k, v]) => [k, v.score])));
    return new Map([...per].map(([k, v]) => [k, { ...v, weight: weights.get(k) ?? 0 }]));
  }

  /** Stops rounds, tells miners to come back later (4009), closes sockets and the port. */
  async close(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const r of this.rounds.values()) r.done();
    await this.loop;
    for (const c of this.conns) {
      this.send(c, { v: PROTOCOL_VERSION, type: 'bye', reason: 'validator shutting down' });
      clearTimeout(c.timer);
      c.ws.close(CloseCode.Shutdown, `${ErrorCode.Shutdown}: validator is shutting down`);
    }
    await new Promise<void>((ok) => this.wss.close(() => ok()));
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((ok) => this.http.close(() => ok()));
  }
}
