import { type PingMessage, type PongMessage, PROTOCOL_VERSION } from './messages.js';

export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  baseMs?: number;
  /** Largest ceiling, however many attempts failed. */
  maxMs?: number;
  /** Uniform in [0,1); injected so tests are deterministic. */
  random?: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (0 = first retry): exponential with full jitter, a uniform draw in
 * [0, min(maxMs, baseMs * 2^attempt)). Full jitter matters here: when a validator restarts, hundreds of miners lose
 * their socket in the same second, and without jitter they would all redial in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // 2 ** 1100 is Infinity, which Math.min turns back into maxMs: no overflow for any attempt count.
  const ceiling = Math.max(0, Math.min(maxMs, baseMs * 2 ** n));
  const r = (options.random ?? Math.random)();
  const u = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.min(Math.floor(u * ceiling), Math.max(0, Math.ceil(ceiling) - 1));
}

export interface HeartbeatOptions {
  /** How often to ping (the validator announces its value in `welcome.heartbeatMs`). */
  intervalMs: number;
  /** Silence after which the peer counts as dead; default 3 intervals, so two lost pings are tolerated. */
  timeoutMs?: number;
  /** The clock, injected so the monitor stays pure and testable. */
  now: () => number;
}

export type HeartbeatAction =
  { action: 'wait'; inMs: number } | { action: 'ping'; ping: PingMessage } | { action: 'dead'; silentMs: number };

/**
 * Application-level heartbeats. WebSocket control pings are invisible to browser code, so both sides use `ping` /
 * `pong` messages. Any inbound frame proves the peer alive, not only pongs: a busy peer streaming answers is fine.
 * The caller owns the timer: call poll() when it fires and re-arm it for `inMs` (or after sending the ping).
 */
export class HeartbeatMonitor {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private readonly now: () => number;
  private lastInbound: number;
  private lastPingAt: number;
  private seq = 0;
  private lastPing: PingMessage | undefined;
  /** Round-trip time of the latest matching pong, when one came back. */
  rttMs: number | undefined;

  constructor(options: HeartbeatOptions) {
    this.intervalMs = options.intervalMs;
    this.timeoutMs = options.timeoutMs ?? 3 * options.intervalMs;
    this.now = options.now;
    this.lastInbound = this.now();
    this.lastPingAt = this.lastInbound;
  }

  /** Record any frame received from the peer. */
  onInbound(): void {
    this.lastInbound = this.now();
  }

  /** Record a pong; returns the RTT when it answers this monitor's latest ping. */
  onPong(pong: Pick<PongMessage, 'seq' | 't'>): number | undefined {
    this.onInbound();
    if (this.lastPing === undefined || pong.seq !== this.lastPing.seq || pong.t !== this.lastPing.t) return undefined;
    this.rttMs = this.lastInbound - this.lastPing.t;
    return this.rttMs;
  }

  /** Milliseconds since the peer last sent anything. */
  silentMs(): number {
    return this.now() - this.lastInbound;
  }

  poll(): HeartbeatAction {
    const now = this.now();
    const silent = now - this.lastInbound;
    if (silent >= this.timeoutMs) return { action: 'dead', silentMs: silent };
    const sincePing = now - this.lastPingAt;
    if (sincePing >= this.intervalMs) {
      this.lastPingAt = now;
      this.seq += 1;
      this.lastPing = { v: PROTOCOL_VERSION, type: 'ping', seq: this.seq, t: now };
      return { action: 'ping', ping: this.lastPing };
    }
    return { action: 'wait', inMs: Math.min(this.intervalMs - sincePing, this.timeoutMs - silent) };
  }
}

/** The reply to a received ping: echoes its seq and t, so the pinger computes RTT statelessly. */
export function pongFor(ping: Pick<PingMessage, 'seq' | 't'>): PongMessage {
  return { v: PROTOCOL_VERSION, type: 'pong', seq: ping.seq, t: ping.t };
}
