// A real SQLite file: the rows are what the status page reads back.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from './store.js';
import { WeightHistory } from './weight-history.js';

const fresh = () => new Store(join(mkdtempSync(join(tmpdir(), 'veracity-weights-')), 'validator.db'));

describe('weight history', () => {
  it('records a no-chain cycle by hotkey, and nothing before there are miners', () => {
    const store = fresh();
    const history = new WeightHistory(store);
    expect(history.recordLocal(new Map(), 1000)).toEqual({ ok: false, detail: 'no miners yet' });
    expect(history.recent(10)).toEqual([]);
    expect(
      history.recordLocal(
        new Map([
          ['5Alice', 0.75],
          ['5Bob', 0.25],
        ]),
        2000,
      ),
    ).toEqual({ ok: true, detail: 'recorded locally' });
    expect(history.recent(10)).toEqual([
      { at: 2000, weights: { '5Alice': 0.75, '5Bob': 0.25 }, status: 'pending', detail: 'computed locally; no chain configured' },
    ]);
    store.close();
  });

  it('updates the row of a cycle as its commit moves on, oldest row first', () => {
    const store = fresh();
    const history = new WeightHistory(store);
    const id = history.record({ at: 1, weights: { '0': 1 }, status: 'pending', detail: 'committing (commit-reveal)' });
    history.record({ at: 2, weights: { '1': 1 }, status: 'failed', detail: 'NoScores: nothing to set' });
    history.update(id, 'set', 'revealed at block 9');
    expect(history.recent(10).map((r) => [r.at, r.status, r.detail])).toEqual([
      [1, 'set', 'revealed at block 9'],
      [2, 'failed', 'NoScores: nothing to set'],
    ]);
    expect(history.recent(1).map((r) => r.at)).toEqual([2]);
    store.close();
  });

  // Two writers of one table drift apart in what a row means (it happened: main.ts and chain-sync.ts both wrote).
  it('is the only code that writes weight rows', () => {
    const src = fileURLToPath(new URL('./', import.meta.url));
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? walk(join(dir, e.name))
          : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
            ? [join(dir, e.name)]
            : [],
      );
    const writers = walk(src)
      .filter((f) => /\.(recordWeights|updateWeightStatus)\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(src, f));
    expect(writers).toEqual(['weight-history.ts']);
  });
});
