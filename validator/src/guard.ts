/**
 * Admission limits of the validator's socket, pure (clock passed in) so they are unit-tested without sockets:
 * how many connections one address may hold, how fast it may open them, how fast one connection may send, and how
 * many bytes may wait unsent for a peer. Every refusal is E_RATE_LIMITED (4006) except the send budget (4011).
 */
export interface GuardLimits {
  /** Open connections (authenticated or not) one IP address may hold. */
  maxConnectionsPerIp: number;
  /** New connections per IP: a token bucket of `burst` refilled at `perSecond`. */
  handshakes: { perSecond: number; burst: number };
  /** Text frames per connection: a token bucket of `burst` refilled at `perSecond`. */
  messages: { perSecond: number; burst: number };
  /** Bytes queued for one peer (its `bufferedAmount`) above which it is closed: a peer that does not read. */
  sendBudgetBytes: number;
  /** Consecutive unanswered challenges after which rounds stop waiting for a miner (it is still challenged). */
  silentAfter: number;
}

/**
 * Defaults sized for the protocol: an honest miner sends one answer per challenge and a pong per heartbeat (well
 * under 1 frame/s), dials once and reconnects with backoff; a challenge is at most a few MiB.
 */
export const DEFAULT_GUARD_LIMITS: Readonly<GuardLimits> = Object.freeze({
  maxConnectionsPerIp: 32,
  handshakes: { perSecond: 2, burst: 32 },
  messages: { perSecond: 20, burst: 100 },
  sendBudgetBytes: 32 * 1024 * 1024,
  silentAfter: 3,
});

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True once the bucket has refilled completely: it carries no state worth keeping. */
  full(now: number): boolean {
    return this.tokens + ((now - this.at) / 1000) * this.perSecond >= this.burst;
  }
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one address. */
export function normaliseIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Per-address connection counts and handshake buckets. */
export class AddressGuard {
  private readonly open = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly limits: GuardLimits) {}

  /** Admits a new connection from `ip` (and counts it) or says why not. */
  admit(ip: string, now: number): { ok: true } | { ok: false; reason: string } {
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      // Full buckets hold nothing: forget them, so a scan of many addresses cannot grow the map without bound.
      if (this.buckets.size >= 10_000) for (const [k, b] of this.buckets) if (b.full(now)) this.buckets.delete(k);
      bucket = new TokenBucket(this.limits.handshakes.perSecond, this.limits.handshakes.burst, now);
      this.buckets.set(ip, bucket);
    }
    const n = this.open.get(ip) ?? 0;
    if (n >= this.limits.maxConnectionsPerIp)
      return { ok: false, reason: `${n} connections from your address already (limit ${this.limits.maxConnectionsPerIp})` };
    if (!bucket.take(now))
      return { ok: false, reason: `more than ${this.limits.handshakes.perSecond} new connections a second from your address` };
    this.open.set(ip, n + 1);
    return { ok: true };
  }

  release(ip: string): void {
    const n = (this.open.get(ip) ?? 1) - 1;
    if (n <= 0) this.open.delete(ip);
    else this.open.set(ip, n);
  }

  connections(ip: string): number {
    return this.open.get(ip) ?? 0;
  }
}
