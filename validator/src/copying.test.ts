import { describe, expect, it } from 'vitest';
import { DEFAULT_COPY_OPTIONS, detectCopying, pairEvidence, type RoundAnswers, shareGroups } from './copying.js';
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
    // They agree on all 100 rounds, with the same number, but every one of them is both miners' prior: nothing
    // informative to judge.
    expect(pairEvidence(rounds, 'k1', 'k2')).toMatchObject({ together: 100, shared: 0, flagged: false });
    expect(detectCopying(rounds).groups).toEqual([]);
  });

  it('does not group two independent prior-answerers (a lookup and a collector, each sure of its own few items)', () => {
    // bench/lookup-attack.ts: both answer the prior P(AI) 0.5 unless they recognise the item, then its label at 0.05
    // or 0.95; the lookup recognises ~15 % of items, the collector ~10 %, not the same ones. The honest miner and its
    // relays share the rounds, as in the bench. 400 rounds, so the pair has well over minShared informative rounds:
    // the evidence clears it, not a lack of it.
    const rng = new Rng('lookup+collector');
    const rounds = simulate(400, { honest: ['h1', 'h2'], copiers: ['c1', 'c2'], seed: 'lookup+collector' }).map((r) => {
      const u = rng.next();
      const sure = r.truth ? 0.95 : 0.05;
      const answers = new Map([...r.answers, ['lookup', u < 0.15 ? sure : 0.5], ['collector', u >= 0.85 ? sure : 0.5]]);
      return { ...r, answers };
    });
    const report = detectCopying(rounds);
    expect(report.groups).toEqual([['c1', 'c2', 'h1']]);
    const pair = report.pairs.find((p) => p.a === 'collector' && p.b === 'lookup')!;
    // On each one's confident rounds the other said 0.5: |gap| 0.45, never the same number.
    expect(pair.together).toBe(400);
    expect(pair.shared).toBeGreaterThanOrEqual(80);
    expect(pair.medianGap).toBeCloseTo(0.45, 12);
    expect(pair.flagged).toBe(false);
    // Counted over every round (what the detector did before), the 0.5s made them one stream: total agreement on
    // ~70 % of rounds, median gap 0, and each stream's few confident answers lift its std over minSpread.
    expect(pair.together - pair.shared).toBeGreaterThan(pair.together / 2);
    expect(pair.spread).toBeGreaterThan(DEFAULT_COPY_OPTIONS.minSpread);
  });

  /** A source answering its prior `prior` on 80 % of rounds and a confident answer on the rest, and its relays. */
  function mostlyConstant(n: number, seed: string, prior = 0.3) {
    const rng = new Rng(seed);
    return simulate(n, { honest: ['h1', 'h2'], seed }).map((r) => {
      const p = rng.chance(0.2) ? (rng.chance(0.8) === !!r.truth ? 0.95 : 0.05) : prior;
      const answers = new Map([...r.answers, ['src', p], ['relay', p], ['blur', p + rng.gaussian() * 0.003]]);
      const arrival = new Map([...r.arrival!, ['src', 10], ['relay', 10 + rng.range(0.1, 5)], ['blur', 10 + rng.range(0.1, 5)]]);
      return { truth: r.truth, answers, arrival };
    });
  }

  it('still flags relays of a mostly-constant source once it has answered off its prior minShared times', () => {
    const report = detectCopying(mostlyConstant(300, 'mostly constant'));
    // The exact relay and one that blurs every number by ~0.003 (so few are its prior to 1e-3, but nearly all lie
    // within maxMedianGap of it: the prior again).
    expect(report.groups).toEqual([['blur', 'relay', 'src']]);
    expect(report.leaders).toEqual(['src']);
    const e = report.pairs.find((p) => p.a === 'relay' && p.b === 'src')!;
    expect(e).toMatchObject({ together: 300, agreement: 1, medianGap: 0, flagged: true });
    expect(e.shared).toBeGreaterThanOrEqual(DEFAULT_COPY_OPTIONS.minShared);
    expect(e.shared).toBeLessThan(100);
    // Over 100 rounds the source answered off its prior ~20 times: too few to say anything yet.
    const short = pairEvidence(mostlyConstant(100, 'mostly constant'), 'relay', 'src');
    expect(short.shared).toBeLessThan(DEFAULT_COPY_OPTIONS.minShared);
    expect(short).toMatchObject({ together: 100, agreement: 1, medianGap: 0, flagged: false });
  });

  it('does not join an independent prior-answerer to a relay group through the prior they share', () => {
    // src and its relay answer the prior 0.5 on 80 % of rounds; "other" answers the same prior, sure of its own ~15 %.
    const rng = new Rng('third');
    const rounds = mostlyConstant(400, 'third', 0.5).map((r) => {
      const sure = r.truth ? 0.95 : 0.05;
      return { ...r, answers: new Map([...r.answers, ['other', rng.chance(0.15) ? sure : 0.5]]) };
    });
    const report = detectCopying(rounds);
    expect(report.groups).toEqual([['blur', 'relay', 'src']]);
    for (const p of report.pairs.filter((p) => p.a === 'other' || p.b === 'other')) expect(p.flagged).toBe(false);
  });

  it('does not group two prior-answerers that blur their prior a little (each within maxMedianGap of its mode)', () => {
    // Jitter of 0.003 makes nearly every answer differ from the mode to 1e-3; were those "informative", the two
    // would again be judged on rounds where both said (about) 0.3, with a median gap under maxMedianGap.
    const rng = new Rng('blurred priors');
    const rounds = simulate(400, { honest: ['h1'], seed: 'blurred priors' }).map((r) => {
      const u = rng.next();
      const sure = r.truth ? 0.95 : 0.05;
      const blur = () => 0.3 + rng.gaussian() * 0.003;
      return { ...r, answers: new Map([...r.answers, ['k1', u < 0.15 ? sure : blur()], ['k2', u >= 0.85 ? sure : blur()]]) };
    });
    const e = pairEvidence(rounds, 'k1', 'k2');
    expect(e.shared).toBeGreaterThanOrEqual(DEFAULT_COPY_OPTIONS.minShared);
    expect(e.medianGap).toBeGreaterThan(0.2);
    expect(e.flagged).toBe(false);
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
