/**
 * veracity-miner-node: the reference miner. Dials a validator, proves its hotkey, answers challenges with the model
 * runtime (onnxruntime-node), reconnects with backoff and jitter, and detects a dead validator by heartbeats.
 * Behaviours other than 'model' exist for tests and benchmarks (a miner that guesses, one that never answers).
 */
import { type Detector, decodeImageNode, type Probabilities } from '@veracity/models/node';
import {
  type AnswerMessage,
  type AuditCounts,
  backoffDelay,
  ChallengeAssembler,
  type CompleteChallenge,
  cryptoReady,
  decodeBinary,
  decodeText,
  DEFAULT_HEARTBEAT_MS,
  declineFor,
  encode,
  HeartbeatMonitor,
  PROTOCOL_VERSION,
  pongFor,
  RevealAudit,
  type StandingVerdict,
  revealMismatchFor,
  type Signer,
  signAuth,
  transportMaxPayload,
  verifyHello,
} from '@veracity/protocol';
import { WebSocket } from 'ws';

/**
 * model: answers with the detector; random: guesses; silent: never answers; decline: says at once it will not answer;
 * custom: answers with `answerWith` (cheating miners in tests and bench/lookup-attack.ts).
 */
export type MinerBehaviour = 'model' | 'random' | 'silent' | 'decline' | 'custom';

export interface NodeMinerOptions {
  url: string;
  signer: Signer;
  netuid: number;
  /** Accept only this validator hotkey (default: any whose hello verifies). */
  validator?: string;
  /**
   * Checks the validator's standing on the chain (permit, stake) before answering its hello; a refusal closes the
   * connection and retries slowly. Without it every validator whose hello verifies is served.
   */
  checkValidator?: (hotkey: string) => Promise<StandingVerdict>;
  behaviour: MinerBehaviour;
  detector?: Detector;
  onEvent?: (event: MinerEvent) => void;
  random?: () => number;
  /** Extra delay before each answer: a slow miner, for tests and benchmarks. */
  answerDelayMs?: number;
  /** sha256 of the bundle this miner answers with (bundleDigest of its manifest.json), declared in auth. */
  bundleSha256?: string;
  /** The answer of a 'custom' miner (given this miner, for what it learned from reveals); null declines. */
  answerWith?: (c: CompleteChallenge, miner: NodeMiner) => Promise<Probabilities | null>;
}

export type MinerEvent =
  | { type: 'connected'; uid?: number }
  | { type: 'answered'; id: string; ms: number; probabilities: [number, number, number] }
  | { type: 'result'; id: string; outcome?: string }
  /** A reveal was checked against the commitments received: what it verified, what did not match. */
  | { type: 'reveal'; window: string; verified: number; mismatched: string[]; audit: AuditCounts }
  | { type: 'closed'; code: number; reason: string; retryInMs: number | null }
  /** This miner refused the validator (no permit, too little stake): `message` says why in plain words. */
  | { type: 'refused'; validator: string; message: string }
  | { type: 'error'; message: string };

export class NodeMiner {
  private ws?: WebSocket;
  private attempt = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private heartbeat?: HeartbeatMonitor;
  answered = 0;
  /** Why the last connection's validator was refused, until a connection succeeds. */
  refusal?: string;
  /** Commitments received and reveals checked against them; kept across reconnects (a reveal may come later). */
  readonly audit = new RevealAudit();
  /** Labels this miner learned from verified reveals, newest last (bounded): what a label collector would hoard. */
  readonly revealed = new Map<string, string>();
  lastClose?: { code: number; reason: string };

  constructor(private readonly o: NodeMinerOptions) {
    if (o.behaviour === 'model' && !o.detector) throw new Error('a model miner needs a detector');
    if (o.behaviour === 'custom' && !o.answerWith) throw new Error('a custom miner needs answerWith');
  }

  async start(): Promise<void> {
    await cryptoReady();
    this.connect();
  }

  private emit(e: MinerEvent): void {
    this.o.onEvent?.(e);
  }

  private connect(): void {
    const ws = new WebSocket(this.o.url, { maxPayload: transportMaxPayload('miner') });
    this.ws = ws;
    const assembler = new ChallengeAssembler();
    let open = false;
    ws.on('message', (data, isBinary) => {
      this.heartbeat?.onInbound();
      if (isBinary) {
        const frame = decodeBinary(data);
        if (!frame.ok) return void ws.close(4000, frame.error.message.slice(0, 100));
        const ev = assembler.media(frame.frame);
        if (ev.status === 'error') return void ws.close(4000, ev.error.message.slice(0, 100));
        if (ev.status === 'complete') void this.answer(ws, ev.challenge);
        return;
      }
      const decoded = decodeText(data.toString(), undefined, { from: 'validator' });
      if (!decoded.ok) return this.emit({ type: 'error', message: `${decoded.error.code}: ${decoded.error.message}` });
      const m = decoded.message;
      switch (m.type) {
        case 'hello': {
          const ok = verifyHello({
            hello: m,
            now: Date.now(),
            netuid: this.o.netuid,
            ...(this.o.validator ? { validator: this.o.validator } : {}),
          });
          if (!ok.ok) return void ws.close(4002, ok.error.message.slice(0, 100));
          if (!this.o.checkValidator) return void ws.send(encode(this.auth(m)));
          void this.o.checkValidator(m.validatorHotkey).then(
            (verdict) => {
              if (ws.readyState !== WebSocket.OPEN) return;
              if (verdict.ok) return void ws.send(encode(this.auth(m)));
              this.refusal = verdict.message;
              this.emit({ type: 'refused', validator: m.validatorHotkey, message: verdict.message });
              ws.close(1000, 'miner refuses this validator');
            },
            (e: unknown) => {
              // Unknown standing is not good standing: without the chain there is no mining for anyone.
              this.refusal = `Not mining: cannot read validator ${m.validatorHotkey.slice(0, 8)}… from the chain (${e instanceof Error ? e.message : String(e)}).`;
              this.emit({ type: 'refused', validator: m.validatorHotkey, message: this.refusal });
              ws.close(1000, 'miner cannot check this validator');
            },
          );
          return;
        }
        case 'welcome':
          open = true;
          this.refusal = undefined;
          this.attempt = 0;
          this.heartbeat = new HeartbeatMonitor({ intervalMs: m.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, now: Date.now });
          this.emit({ type: 'connected', ...(m.uid === undefined ? {} : { uid: m.uid }) });
          return this.armHeartbeat(ws);
        case 'challenge': {
          const ev = assembler.challenge(m, Date.now());
          if (ev.status === 'error') return void ws.close(4000, ev.error.message.slice(0, 100));
          this.audit.commit(m.id, m.commitment);
          return;
        }
        case 'ping':
          return void ws.send(encode(pongFor(m)));
        case 'pong':
          this.heartbeat?.onPong(m);
          return;
        case 'result':
          return this.emit({ type: 'result', id: m.id, ...(m.outcome === undefined ? {} : { outcome: m.outcome }) });
        case 'reveal': {
          const check = this.audit.check(m);
          for (const v of check.verified) this.revealed.set(v.id, v.label);
          while (this.revealed.size > 10_000) this.revealed.delete(this.revealed.keys().next().value as string);
          // Each mismatch goes back to the validator as evidence (non-fatal), and to whoever runs this miner.
          for (const x of check.mismatched) ws.send(encode(revealMismatchFor(x, m.window)));
          return this.emit({
            type: 'reveal',
            window: m.window,
            verified: check.verified.length,
            mismatched: check.mismatched.map((x) => x.id),
            audit: this.audit.snapshot(),
          });
        }
        case 'error':
          return this.emit({ type: 'error', message: `${m.code}: ${m.message}` });
        default:
          return;
      }
    });
    ws.on('error', (e) => this.emit({ type: 'error', message: e.message }));
    ws.on('close', (code, reason) => {
      clearTimeout(this.timer);
      this.lastClose = { code, reason: reason.toString() };
      if (this.stopped) return this.emit({ type: 'closed', code, reason: reason.toString(), retryInMs: null });
      // Refusals that will repeat (bad key, unregistered) wait long; everything else backs off from 0.5 s.
      const permanent = code === 4002 || code === 4004 || this.refusal !== undefined;
      const retryInMs = backoffDelay(permanent ? this.attempt + 6 : this.attempt, {
        baseMs: 500,
        maxMs: 30_000,
        ...(this.o.random ? { random: this.o.random } : {}),
      });
      this.attempt++;
      this.emit({ type: 'closed', code, reason: reason.toString(), retryInMs });
      void open;
      this.timer = setTimeout(() => this.connect(), retryInMs);
    });
  }

  private auth(hello: Parameters<typeof signAuth>[1]) {
    return signAuth(this.o.signer, hello, Date.now(), this.o.bundleSha256 ? { bundleSha256: this.o.bundleSha256 } : {});
  }

  private armHeartbeat(ws: WebSocket): void {
    const hb = this.heartbeat;
    if (!hb) return;
    const action = hb.poll();
    if (action.action === 'dead') return void ws.terminate();
    if (action.action === 'ping' && ws.readyState === WebSocket.OPEN) ws.send(encode(action.ping));
    this.timer = setTimeout(() => this.armHeartbeat(ws), action.action === 'wait' ? action.inMs : hb.intervalMs);
  }

  private async answer(ws: WebSocket, c: CompleteChallenge): Promise<void> {
    if (this.o.behaviour === 'silent') return;
    if (this.o.behaviour === 'decline') return this.decline(ws, c.id, 'this miner declines every challenge');
    const t0 = performance.now();
    let probabilities: Probabilities;
    if (this.o.behaviour === 'custom') {
      const p = await this.o.answerWith!(c, this);
      if (p === null) return this.decline(ws, c.id, 'this miner has no answer');
      probabilities = p;
    } else if (this.o.behaviour === 'random') {
      const r = [this.rand(), this.rand(), this.rand()];
      const s = r[0]! + r[1]! + r[2]!;
      probabilities = [r[0]! / s, r[1]! / s, 1 - r[0]! / s - r[1]! / s];
    } else {
      try {
        const frames = await Promise.all(c.media.map((m) => decodeImageNode(m)));
        const d = this.o.detector!;
        probabilities = (await d.classifyMedia(frames, c.modality)).probabilities;
      } catch (e) {
        const message = `cannot score challenge ${c.id}: ${e instanceof Error ? e.message : String(e)}`;
        this.decline(ws, c.id, message);
        return this.emit({ type: 'error', message });
      }
    }
    if (this.o.answerDelayMs) await new Promise((r) => setTimeout(r, this.o.answerDelayMs));
    // Work past the deadline is dropped: a late answer is not scored and only costs bandwidth.
    if (Date.now() > c.deadline || ws.readyState !== WebSocket.OPEN) return;
    const ms = performance.now() - t0;
    const answer: AnswerMessage = {
      v: PROTOCOL_VERSION,
      type: 'answer',
      id: c.id,
      probabilities: normalise(probabilities),
      ms: Math.round(ms * 1000) / 1000,
    };
    ws.send(encode(answer));
    this.answered++;
    this.emit({ type: 'answered', id: c.id, ms, probabilities: answer.probabilities });
  }

  /** E_DECLINED: the validator scores this challenge as unanswered now instead of waiting for its deadline. */
  private decline(ws: WebSocket, id: string, message: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(encode(declineFor(id, message)));
  }

  private rand(): number {
    return (this.o.random ?? Math.random)();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
  }
}

/** Float rounding can leave a sum 1 +- 1e-16; the protocol allows 1e-6, but make the sum exact anyway. */
function normalise(p: Probabilities): [number, number, number] {
  const s = p[0] + p[1] + p[2];
  const a = p[0] / s;
  const b = p[1] / s;
  return [a, b, Math.max(0, 1 - a - b)];
}
