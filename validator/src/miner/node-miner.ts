/**
 * veracity-miner-node: the reference miner in Node. The protocol (handshake, standing check, challenges, reveals,
 * heartbeats, reconnects) is @veracity/miner's MinerSession, the same client the web miner runs; this file only
 * brings what Node has: a `ws` socket, the keyring signer, onnxruntime-node and real timers. Behaviours other than
 * 'model' exist for tests and benchmarks (a miner that guesses, one that never answers).
 */
import { type AnswerOutcome, type Dial, MinerSession, type SessionEvent } from '@veracity/miner';
import { type Detector, decodeImageNode, type Probabilities } from '@veracity/models/node';
import {
  type AuditCounts,
  bundleDigest,
  CloseCode,
  type CompleteChallenge,
  cryptoReady,
  type Signer,
  type StandingVerdict,
  transportMaxPayload,
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
  /**
   * The bundle declared in every auth (protocol README §12). Default: the detector's, bundleDigest of the
   * manifest.json it loaded; without a detector, nothing is declared. Set it to declare another bundle than the one
   * answering (a test of the validator's mismatch check).
   */
  bundleSha256?: string;
  onEvent?: (event: MinerEvent) => void;
  random?: () => number;
  /** Extra delay before each answer: a slow miner, for tests and benchmarks. */
  answerDelayMs?: number;
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

/** How long a socket closed by this miner may take over the closing handshake before it is cut (a dead peer never answers). */
const CLOSE_GRACE_MS = 2_000;

export class NodeMiner {
  private readonly session: MinerSession;
  answered = 0;
  /** Labels this miner learned from verified reveals, newest last (bounded): what a label collector would hoard. */
  readonly revealed = new Map<string, string>();
  /** The bundle this miner declares in its auth (undefined: none). */
  readonly bundleSha256: string | undefined;

  constructor(private readonly o: NodeMinerOptions) {
    if (o.behaviour === 'model' && !o.detector) throw new Error('a model miner needs a detector');
    if (o.behaviour === 'custom' && !o.answerWith) throw new Error('a custom miner needs answerWith');
    const manifestBytes = o.detector?.manifestBytes;
    this.bundleSha256 = o.bundleSha256 ?? (manifestBytes ? bundleDigest(manifestBytes) : undefined);
    const declared = this.bundleSha256;
    this.session = new MinerSession({
      url: o.url,
      netuid: o.netuid,
      hotkey: o.signer.address,
      // The keyring signs the raw payload bytes (a browser wallet signs them <Bytes>-wrapped; both verify).
      sign: async (text) => `0x${Buffer.from(o.signer.sign(new TextEncoder().encode(text))).toString('hex')}`,
      answer: (c) => this.answer(c),
      dial: this.dial,
      clock: {
        now: () => Date.now(),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      ...(declared === undefined ? {} : { bundleSha256: () => declared }),
      ...(o.validator ? { validator: o.validator } : {}),
      ...(o.checkValidator ? { checkValidator: o.checkValidator } : {}),
      ...(o.random ? { random: o.random } : {}),
      // A headless miner on a server clock: answers are sent until the deadline itself.
      marginMs: 0,
      onEvent: (e) => this.onSessionEvent(e),
    });
  }

  /** Commitments received and reveals checked against them; kept across reconnects (a reveal may come later). */
  get audit() {
    return this.session.audit;
  }

  /** Why the last connection's validator was refused, until a connection succeeds. */
  get refusal(): string | undefined {
    return this.session.refusal;
  }

  get lastClose(): { code: number; reason: string } | undefined {
    return this.session.lastClose;
  }

  async start(): Promise<void> {
    await cryptoReady();
    this.session.start();
  }

  stop(): void {
    const last = this.session.state;
    this.session.stop();
    if (last !== 'stopped') this.emit({ type: 'closed', code: CloseCode.Normal, reason: 'miner stopped', retryInMs: null });
  }

  private emit(e: MinerEvent): void {
    this.o.onEvent?.(e);
  }

  private onSessionEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'welcome':
        return this.emit({ type: 'connected', ...(e.uid === undefined ? {} : { uid: e.uid }) });
      case 'answered':
        this.answered++;
        return this.emit({ type: 'answered', id: e.id, ms: e.inferMs, probabilities: e.probabilities });
      case 'result':
        return this.emit({ type: 'result', id: e.id, ...(e.outcome === undefined ? {} : { outcome: e.outcome }) });
      case 'reveal':
        for (const v of e.verified) this.revealed.set(v.id, v.label);
        while (this.revealed.size > 10_000) this.revealed.delete(this.revealed.keys().next().value as string);
        return this.emit({
          type: 'reveal',
          window: e.window,
          verified: e.verified.length,
          mismatched: e.mismatched.map((x) => x.id),
          audit: e.audit,
        });
      case 'closed':
        return this.emit(e);
      case 'refused':
        return this.emit({ type: 'refused', validator: e.validator, message: e.message });
      case 'error':
        return this.emit({ type: 'error', message: `${e.code}: ${e.message}` });
      default:
        return;
    }
  }

  /** The `ws` socket behind the session; transport errors are reported here, the close that follows drives the session. */
  private readonly dial: Dial = (url, handlers) => {
    const ws = new WebSocket(url, { maxPayload: transportMaxPayload('miner') });
    ws.on('open', () => handlers.onOpen());
    ws.on('message', (data, isBinary) =>
      handlers.onMessage(isBinary ? new Uint8Array(data as Buffer) : (data as Buffer).toString()),
    );
    ws.on('error', (e) => this.emit({ type: 'error', message: e.message }));
    ws.on('close', (code, reason) => handlers.onClose(code, reason.toString()));
    return {
      send: (data) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data);
      },
      close: (code, reason) => {
        if (ws.readyState === WebSocket.CONNECTING) return ws.terminate();
        ws.close(code, reason);
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      },
    };
  };

  private async answer(c: CompleteChallenge): Promise<AnswerOutcome> {
    if (this.o.behaviour === 'silent') return 'withhold';
    if (this.o.behaviour === 'decline') return { decline: 'this miner declines every challenge' };
    const t0 = performance.now();
    let probabilities: Probabilities;
    if (this.o.behaviour === 'custom') {
      const p = await this.o.answerWith!(c, this);
      if (p === null) return { decline: 'this miner has no answer' };
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
        // Thrown on: the session reports it and declines the challenge with this message.
        const code = (e as { code?: unknown }).code;
        throw Object.assign(new Error(`cannot score challenge ${c.id}: ${e instanceof Error ? e.message : String(e)}`), {
          ...(typeof code === 'string' ? { code } : {}),
        });
      }
    }
    if (this.o.answerDelayMs) await new Promise((r) => setTimeout(r, this.o.answerDelayMs));
    return { probabilities, ms: performance.now() - t0 };
  }

  private rand(): number {
    return (this.o.random ?? Math.random)();
  }
}
