import { afterEach, describe, expect, it, vi } from 'vitest';
import { codeOf } from './errors.js';
import { fail, ok } from './messages.js';
import { isReplyEnvelope, isRequestEnvelope, PendingRequests } from './requests.js';

afterEach(() => vi.useRealTimers());

describe('PendingRequests', () => {
  it('matches replies to requests by id, in any order', async () => {
    const p = new PendingRequests(1000);
    const a = p.open<string>({ n: 1 });
    const b = p.open<string>({ n: 2 });
    expect(a.envelope.id).not.toBe(b.envelope.id);
    p.settle({ id: b.envelope.id, reply: ok('second') });
    p.settle({ id: a.envelope.id, reply: ok('first') });
    await expect(a.result).resolves.toBe('first');
    await expect(b.result).resolves.toBe('second');
    expect(p.size).toBe(0);
  });

  it('rejects with the code the other side sent, and ignores unknown or repeated ids', async () => {
    const p = new PendingRequests(1000);
    const a = p.open({});
    p.settle({ id: 999, reply: ok('stray') });
    p.settle({ id: a.envelope.id, reply: fail('E_MEDIA_FETCH', 'E_MEDIA_FETCH: HTTP 404') });
    p.settle({ id: a.envelope.id, reply: ok('late') });
    const e = await a.result.catch((x: unknown) => x);
    expect(codeOf(e)).toBe('E_MEDIA_FETCH');
    expect((e as Error).message).toBe('E_MEDIA_FETCH: HTTP 404');
  });

  it('times a request out with E_TIMEOUT and forgets it', async () => {
    vi.useFakeTimers();
    const p = new PendingRequests(50);
    const a = p.open({});
    const seen = a.result.catch((x: unknown) => x);
    vi.advanceTimersByTime(51);
    expect(codeOf(await seen)).toBe('E_TIMEOUT');
    expect(p.size).toBe(0);
    p.settle({ id: a.envelope.id, reply: ok('too late') });
  });

  it('fails everything waiting when the channel closes', async () => {
    const p = new PendingRequests(1000);
    const all = [p.open({}), p.open({})].map((r) => r.result.catch((x: unknown) => codeOf(x)));
    p.failAll('E_NO_TARGET', 'the service worker went away');
    expect(await Promise.all(all)).toEqual(['E_NO_TARGET', 'E_NO_TARGET']);
    expect(p.size).toBe(0);
  });
});

describe('envelopes', () => {
  it('are recognised by shape', () => {
    expect(isRequestEnvelope({ id: 1, message: { type: 'scan' } })).toBe(true);
    expect(isRequestEnvelope({ id: 1.5, message: {} })).toBe(false);
    expect(isRequestEnvelope({ id: 1 })).toBe(false);
    expect(isRequestEnvelope(null)).toBe(false);
    expect(isReplyEnvelope({ id: 1, reply: { ok: true, value: 1 } })).toBe(true);
    expect(isReplyEnvelope({ id: 1, reply: { value: 1 } })).toBe(false);
    expect(isReplyEnvelope('x')).toBe(false);
  });
});
