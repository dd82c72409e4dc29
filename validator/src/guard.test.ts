import { describe, expect, it } from 'vitest';
import { AddressGuard, DEFAULT_GUARD_LIMITS, normaliseIp, TokenBucket } from './guard.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(400)).toBe(false); // 0.8 token
    expect(b.take(500)).toBe(true); // 1 token after 500 ms at 2/s
    expect(b.full(500)).toBe(false);
    expect(b.full(2000)).toBe(true);
  });
});

describe('AddressGuard', () => {
  const limits = { ...DEFAULT_GUARD_LIMITS, maxConnectionsPerIp: 2, handshakes: { perSecond: 1, burst: 3 } };

  it('caps open connections per address and frees a slot on release', () => {
    const g = new AddressGuard(limits);
    expect(g.admit('10.0.0.1', 0).ok).toBe(true);
    expect(g.admit('10.0.0.1', 0).ok).toBe(true);
    const third = g.admit('10.0.0.1', 0);
    expect(third.ok).toBe(false);
    expect(!third.ok && third.reason).toContain('limit 2');
    expect(g.admit('10.0.0.2', 0).ok).toBe(true); // another address is not affected
    g.release('10.0.0.1');
    expect(g.connections('10.0.0.1')).toBe(1);
    expect(g.admit('10.0.0.1', 0).ok).toBe(true);
  });

  it('limits how fast one address opens connections, even when it closes each at once', () => {
    const g = new AddressGuard(limits);
    const results = Array.from({ length: 5 }, () => {
      const r = g.admit('10.0.0.3', 0);
      if (r.ok) g.release('10.0.0.3');
      return r.ok;
    });
    expect(results).toEqual([true, true, true, false, false]);
    expect(g.admit('10.0.0.3', 1000).ok).toBe(true);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 one', () => {
    expect(normaliseIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseIp('::1')).toBe('::1');
    expect(normaliseIp(undefined)).toBe('unknown');
  });
});
