import { describe, expect, it } from 'vitest';
import { ScoringQueue } from './queue.js';

function recorder(fail?: (x: string) => boolean) {
  const batches: string[][] = [];
  const queue = new ScoringQueue<string, string>({
    keyOf: (x) => x,
    maxBatch: 3,
    cacheSize: 2,
    cacheable: (x) => !x.startsWith('live:'),
    async process(items) {
      batches.push(items);
      await new Promise((r) => setTimeout(r, 5));
      return items.map((x) => (fail?.(x) ? new Error(`bad ${x}`) : x.toUpperCase()));
    },
  });
  return { queue, batches };
}

describe('ScoringQueue', () => {
  it('batches what arrives together, up to maxBatch', async () => {
    const { queue, batches } = recorder();
    const out = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((x) => queue.submit(x)));
    expect(out).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(batches).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('dedupes identical keys in flight and serves repeats from the cache', async () => {
    const { queue, batches } = recorder();
    const [x, y] = await Promise.all([queue.submit('a'), queue.submit('a')]);
    expect([x, y]).toEqual(['A', 'A']);
    expect(await queue.submit('a')).toBe('A');
    expect(batches).toEqual([['a']]);
    expect(queue.stats).toMatchObject({ submitted: 3, deduped: 1, cacheHits: 1, batches: 1 });
  });

  it('the cache is LRU-bounded and skips uncacheable items', async () => {
    const { queue, batches } = recorder();
    for (const k of ['a', 'b', 'c']) await queue.submit(k);
    await queue.submit('a'); // evicted by c (cache of 2)
    await queue.submit('live:1');
    await queue.submit('live:1');
    expect(batches.flat()).toEqual(['a', 'b', 'c', 'a', 'live:1', 'live:1']);
  });

  it('one failure fails only its item and is not cached', async () => {
    let broken = true;
    const { queue } = recorder((x) => x === 'b' && broken);
    const results = await Promise.allSettled(['a', 'b'].map((x) => queue.submit(x)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    broken = false;
    expect(await queue.submit('b')).toBe('B');
  });

  it('a batch that throws rejects every item in it, and the queue keeps going', async () => {
    let calls = 0;
    const queue = new ScoringQueue<string, string>({
      keyOf: (x) => x,
      async process(items) {
        if (calls++ === 0) throw new Error('session lost');
        return items;
      },
    });
    await expect(queue.submit('a')).rejects.toThrow('session lost');
    expect(await queue.submit('a')).toBe('a');
  });
});
