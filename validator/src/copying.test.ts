import { describe, expect, it } from 'vitest';
import { detectCopying, pairEvidence, type RoundAnswers, shareGroups } from './copying.js';
import { Rng } from './random.js';

/**
 * A simulated stream: `honest` miners each see their own variant (their own noise around a shared item difficulty,
 * as the same model on different crops does); `copiers` relay the first honest miner's answer (optionally jittered).
 */
function simulate(n: number, opts: { honest: string[]; copiers?: string[]; jitter?: number; seed?: string }): RoundAnswers[] {
  const rng = new Rng(opts.seed ?? 'copy');
  const rounds: RoundAnswers[] = [];
  for (let i = 0; i < n; i++) {
    const truth: 0 | 1 = rng.chance(0.5) ? 1 : 0;
    // How hard the item is, shared by everyone who looks at it: the same model errs on the same items.
    const difficulty = rng.gaussian() * 0.25;
    const answers = new Map<string, number>();
    const arrival = new Map<string, number>();
    for (const h of opts.honest) {
      const logit = (truth ? 1.2 : -1.2) + difficulty * 4 + rng.gaussian() * 0.8;
      answers.set(h, 1 / (1 + Math.exp(-logit)));
      arrival.set(h, rng.range(20, 80));
    }
    const source = answers.get(opts.honest[0]!)!;
    for (const c of opts.copiers ?? []) {
      const p = source + (opts.jitter ? rng.gaussian() * opts.jitter : 0);
      answers.set(c, Math.min(1, Math.max(0, p)));
      // A relay can only answer once its source has.
      arrival.set(c, arrival.get(opts.honest[0]!)! + rng.range(0.1, 30));
    }
    rounds.push({ truth, answers, arrival });
  }
  return rounds;
}

describe('copy detection', () => {
  it('flags hotkeys relaying one answer stream, as one group, and leaves honest miners with the same model alone', () => {
    const rounds = simulate(200, { honest: ['h1', 'h2', 'h3'], copiers: ['c1', 'c2', 'c3', 'c4'] });
    const report = detectCopying(rounds);
    expect(report.groups).toEqual([['c1', 'c2', 'c3', 'c4', 'h1']]);
    // The source answers first: it is the group's leader.
    expect(report.leaders).toEqual(['h1']);
    const honestPair = report.pairs.find((p) => p.a === 'h2' && p.b === 'h3')!;
    // Honest miners agree more than independent errors would (shared difficulty) but their numbers differ.
    expect(honestPair.flagged).toBe(false);
    expect(honestPair.medianGap).toBeGreaterThan(0.05);
    const copyPair = report.pairs.find((p) => p.a === 'c1' && p.b === 'c2')!;
    expect(copyPair).toMatchObject({ agreement: 1, medianGap: 0, flagged: true });
    expect(copyPair.z).toBeGreaterThan(3);
  });

  it('catches a copier that blurs the numbers a little', () => {
    const report = detectCopying(simulate(300, { honest: ['h1', 'h2'], copiers: ['c1'], jitter: 0.003 }));
    expect(report.groups).toEqual([['c1', 'h1']]);
  });

  it('needs enough shared rounds before it says anything', () => {
    expect(detectCopying(simulate(20, { honest: ['h1'], copiers: ['c1'] })).groups).toEqual([]);
    const e = pairEvidence(simulate(20, { honest: ['h1'], copiers: ['c1'] }), 'c1', 'h1');
    expect(e).toMatchObject({ shared: 20, flagged: false });
  });

  it('two perfect miners agreeing always is no evidence (z 0, not infinite)', () => {
    const rounds: RoundAnswers[] = Array.from({ length: 50 }, (_, i) => {
      const truth: 0 | 1 = i % 2 ? 1 : 0;
      return {
        truth,
        answers: new Map([
          ['a', truth ? 0.9 : 0.1],
          ['b', truth ? 0.9 : 0.1],
        ]),
      };
    });
    expect(pairEvidence(rounds, 'a', 'b')).toMatchObject({ agreement: 1, expected: 1, z: 0, flagged: false });
  });

  it('does not call two constant streams copies (a miner answering its prior every time)', () => {
    const rounds: RoundAnswers[] = simulate(100, { honest: ['h1'] }).map((r) => ({
      truth: r.truth,
      answers: new Map([...r.answers, ['k1', 0.5], ['k2', 0.5]]),
    }));
    const e = pairEvidence(rounds, 'k1', 'k2');
    expect(e).toMatchObject({ agreement: 1, medianGap: 0, spread: 0, flagged: false });
    expect(e.z).toBeGreaterThan(3);
    expect(detectCopying(rounds).groups).toEqual([]);
  });

  it('shareGroups: the leader keeps its score, its relays get none', () => {
    const scores = new Map([
      ['h', 0.5],
      ['src', 0.6],
      ['c1', 0.6],
    ]);
    expect(shareGroups(scores, [['c1', 'src']], ['src'])).toEqual(
      new Map([
        ['h', 0.5],
        ['src', 0.6],
        ['c1', 0],
      ]),
    );
  });

  it('shareGroups without a leader gives a group what one of its members would earn, split among them', () => {
    const scores = new Map([
      ['h', 0.5],
      ['c1', 0.6],
      ['c2', 0.6],
      ['c3', 0.6],
    ]);
    const shared = shareGroups(scores, [['c1', 'c2', 'c3']]);
    expect(shared.get('h')).toBe(0.5);
    for (const c of ['c1', 'c2', 'c3']) expect(shared.get(c)).toBeCloseTo(0.2, 12);
    expect([...shared.values()].filter((_, i) => i > 0).reduce((a, b) => a + b, 0)).toBeCloseTo(0.6, 12);
  });
});
