import { describe, expect, it } from 'vitest';
import { SerialQueue } from './session.js';

const later = <T>(ms: number, v: T) => new Promise<T>((ok) => setTimeout(() => ok(v), ms));

describe('SerialQueue', () => {
  it('runs jobs one at a time, in order', async () => {
    const q = new SerialQueue();
    const seen: string[] = [];
    let running = 0;
    const job = (name: string) => async () => {
      running++;
      expect(running).toBe(1);
      seen.push(name);
      await later(5, null);
      running--;
      return name;
    };
    expect(await Promise.all([q.run(job('a')), q.run(job('b')), q.run(job('c'))])).toEqual(['a', 'b', 'c']);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('a failing job does not stop the ones behind it', async () => {
    const q = new SerialQueue();
    const bad = q.run(async () => {
      throw new Error('boom');
    });
    await expect(bad).rejects.toThrow('boom');
    expect(await q.run(async () => 2)).toBe(2);
  });

  it('close waits for the running job, refuses the queued ones and then runs its last job', async () => {
    const q = new SerialQueue();
    const order: string[] = [];
    const running = q.run(async () => {
      await later(20, null);
      order.push('running');
      return 'done';
    });
    await later(1, null); // the first job has started; the rest wait behind it
    const queued = [1, 2, 3].map((i) => q.run(async () => void order.push(`queued ${i}`)));
    const closed = q.close(async () => void order.push('release'));
    await expect(running).resolves.toBe('done');
    for (const p of queued) await expect(p).rejects.toMatchObject({ code: 'E_DISPOSED' });
    await closed;
    expect(order).toEqual(['running', 'release']);
    // And after it: nothing runs.
    await expect(q.run(async () => 1)).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });
});
