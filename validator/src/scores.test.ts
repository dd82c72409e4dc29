// A real SQLite store: standings are read from the same answer windows the validator writes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minerStandings } from './scores.js';
import { DEFAULT_POLICY } from './scoring.js';
import { type AnswerLog, Store } from './store.js';

const answers = (hotkey: string, ai: (truth: 0 | 1, n: number) => number, modality: AnswerLog['modality'] = 'image') =>
  Array.from({ length: 20 }, (_, n): AnswerLog => {
    const truth = (n % 2) as 0 | 1;
    return { hotkey, challengeId: `${modality}-${n}`, modality, truth, ai: ai(truth, n), outcome: 'ok', latencyMs: 5, at: n };
  });

function storeWith(): Store {
  const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-scores-')), 'validator.db'));
  store.upsertMiner('alice', 0, 1);
  store.upsertMiner('bob', 0, 2);
  store.upsertMiner('carol', 0);
  // alice is right with confidence in both modalities, bob right in images only, carol always unsure.
  store.recordAnswers([
    ...answers('alice', (t) => (t ? 0.9 : 0.1)),
    ...answers('alice', (t) => (t ? 0.9 : 0.1), 'video'),
    ...answers('bob', (t) => (t ? 0.9 : 0.1)),
    ...answers('carol', () => 0.5),
  ]);
  return store;
}

describe('minerStandings', () => {
  it('scores every modality window, weighs by MODALITIES, and normalises weights', () => {
    const store = storeWith();
    const s = minerStandings(store, DEFAULT_POLICY, null);
    const alice = s.get('alice')!;
    const bob = s.get('bob')!;
    expect(alice.uid).toBe(1);
    expect(s.get('carol')!.uid).toBeNull();
    expect(alice.detail.modalities.video.scored).toBe(true);
    expect(bob.detail.modalities.video.scored).toBe(false);
    // Same image window, so alice's extra is exactly the video weight times the same sn34.
    expect(alice.score / bob.score).toBeCloseTo(1 / DEFAULT_POLICY.modalityWeights.image, 9);
    expect(s.get('carol')!.score).toBe(0);
    expect([...s.values()].reduce((a, m) => a + m.weight, 0)).toBeCloseTo(1, 12);
    expect(alice.weight).toBeGreaterThan(bob.weight);
    store.close();
  });

  it("under the 'share' policy a copy group's leader keeps its score and the others get none", () => {
    const store = storeWith();
    const s = minerStandings(store, DEFAULT_POLICY, { groups: [['alice', 'bob']], leaders: ['alice'] });
    expect(s.get('bob')).toMatchObject({ score: 0, weight: 0 });
    expect(s.get('bob')!.detail.score).toBeGreaterThan(0);
    expect(s.get('alice')!.weight).toBeCloseTo(1, 12);
    store.close();
  });
});
