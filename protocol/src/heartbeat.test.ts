import { describe, expect, it } from 'vitest';
import { backoffDelay, HeartbeatMonitor, pongFor } from './index.js';

describe('backoffDelay', () => {
  it('draws uniformly below an exponential ceiling (full jitter)', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, { baseMs: 500, maxMs: 30_000, random: top })).toBe(499);
    expect(backoffDelay(1, { baseMs: 500, maxMs: 30_000, random: top })).toBe(999);
    expect(backoffDelay(5, { baseMs: 500, maxMs: 30_000, random: top })).toBe(15_999);
    expect(backoffDelay(6, { baseMs: 500, maxMs: 30_000, random: top })).toBe(29_999);
    expect(backoffDelay(3, { baseMs: 500, random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
  });

  it('stays within [0, maxMs) for any attempt and any random value, including absurd ones', () => {
    for (const attempt of [0, 1, 10, 60, 1024, 1e9, Number.POSITIVE_INFINITY, -3, Number.NaN, 2.7]) {
      for (const r of [0, 0.3, 0.999, 1, 2, -1, Number.NaN]) {
        const d = backoffDelay(attempt, { maxMs: 30_000, random: () => r });
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(30_000);
      }
    }
  });

  it('spreads reconnects: 1000 draws at one attempt cover the range', () => {
    const draws = Array.from({ length: 1000 }, () => backoffDelay(4, { baseMs: 1000, maxMs: 60_000 }));
    expect(Math.min(...draws)).toBeLessThan(2000);
    expect(Math.max(...draws)).toBeGreaterThan(14_000);
    expect(draws.every((d) => d >= 0 && d < 16_000)).toBe(true);
  });
});

describe('HeartbeatMonitor', () => {
  const setup = (intervalMs = 1000, timeoutMs?: number) => {
    const clock = { t: 1_000_000 };
    const m = new HeartbeatMonitor({ intervalMs, timeoutMs, now: () => clock.t });
    return { clock, m };
  };

  it('waits, then pings once per interval with increasing seq', () => {
    const { clock, m } = setup();
    expect(m.poll()).toEqual({ action: 'wait', inMs: 1000 });
    clock.t += 400;
    expect(m.poll()).toEqual({ action: 'wait', inMs: 600 });
    clock.t += 600;
    expect(m.poll()).toEqual({ action: 'ping', ping: { v: 2, type: 'ping', seq: 1, t: 1_001_000 } });
    expect(m.poll()).toMatchObject({ action: 'wait' });
    m.onInbound();
    clock.t += 1000;
    expect(m.poll()).toMatchObject({ action: 'ping', ping: { seq: 2 } });
  });

  it('measures RTT from a matching pong only', () => {
    const { clock, m } = setup();
    clock.t += 1000;
    const r = m.poll();
    if (r.action !== 'ping') throw new Error('expected a ping');
    clock.t += 35;
    expect(m.onPong({ seq: 99, t: r.ping.t })).toBeUndefined();
    expect(m.onPong(pongFor(r.ping))).toBe(35);
    expect(m.rttMs).toBe(35);
  });

  it('declares the peer dead after 3 silent intervals by default, and any inbound frame keeps it alive', () => {
    const { clock, m } = setup();
    for (let i = 0; i < 10; i++) {
      clock.t += 1000;
      m.poll();
      m.onInbound(); // the peer keeps sending (answers, pongs)
    }
    expect(m.poll().action).not.toBe('dead');
    clock.t += 2999;
    expect(m.poll().action).not.toBe('dead');
    clock.t += 1;
    expect(m.poll()).toEqual({ action: 'dead', silentMs: 3000 });
    expect(m.silentMs()).toBe(3000);
  });

  it('honours a custom timeout and never asks to wait past it', () => {
    const { clock, m } = setup(10_000, 4_000);
    expect(m.poll()).toEqual({ action: 'wait', inMs: 4000 });
    clock.t += 4000;
    expect(m.poll().action).toBe('dead');
  });

  it('pongFor echoes seq and t', () => {
    expect(pongFor({ seq: 3, t: 42 })).toEqual({ v: 2, type: 'pong', seq: 3, t: 42 });
  });
});
