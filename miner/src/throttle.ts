/**
 * Token bucket for the "challenges per minute" cap: `perMinute` tokens a minute, at most `burst` saved up. Shared
 * by every validator session so the cap is the machine's, not each connection's. Clock-free: callers pass `now`.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private rate = 0;
  private burst = 1;

  constructor(perMinute: number, now: number, burst?: number) {
    this.last = now;
    this.tokens = 0;
    this.setRate(perMinute, now, burst);
    this.tokens = this.burst;
  }

  /** 0 (or less) means unlimited. Changing the rate keeps the tokens already earned, capped to the new burst. */
  setRate(perMinute: number, now: number, burst?: number): void {
    this.refill(now);
    this.rate = Number.isFinite(perMinute) && perMinute > 0 ? perMinute : 0;
    // A burst of a few challenges absorbs a validator's round rhythm without letting the average exceed the cap.
    this.burst = Math.max(1, burst ?? Math.min(5, Math.ceil(this.rate / 6)));
    this.tokens = Math.min(this.tokens, this.burst);
  }

  get perMinute(): number {
    return this.rate;
  }

  /** Takes a token when one is available; always true when unlimited. */
  take(now: number): boolean {
    if (this.rate === 0) return true;
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token (0 when one is available now or unlimited). */
  waitMs(now: number): number {
    if (this.rate === 0) return 0;
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60_000) / this.rate);
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    if (this.rate > 0) this.tokens = Math.min(this.burst, this.tokens + (dt * this.rate) / 60_000);
  }
}
