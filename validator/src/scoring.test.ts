import { sn34 } from '@veracity/models';
import { weightShares } from '@veracity/protocol';
import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';
import { type AnswerRecord, chanceZ, DEFAULT_POLICY, scoreMiner, scoreWindow } from './scoring.js';

const img = (truth: 0 | 1, ai: number | null): AnswerRecord => ({ modality: 'image', truth, ai });
const vid = (truth: 0 | 1, ai: number | null): AnswerRecord => ({ modality: 'video', truth, ai });

describe('scoring', () => {
  it('a perfect, confident miner scores 1 per modality', () => {
    const recs = [img(1, 1), img(0, 0), img(1, 1), img(0, 0), img(1, 1)];
    const w = scoreWindow(recs);
    expect(w).toMatchObject({ n: 5, mcc: 1, brier: 0, sn34: 1, scored: true });
  });

  it('needs at least 5 answers before any score', () => {
    expect(scoreWindow([img(1, 1), img(0, 0), img(1, 1), img(0, 0)])).toMatchObject({ scored: false, sn34: 0 });
  });

  it('hand-computed mixed window', () => {
    // y = 1,1,0,0,1  p = 0.9,0.6,0.2,0.7,0.8 -> predictions 1,1,0,1,1: tp=3 tn=1 fp=1 fn=0
    // MCC = (3*1 - 1*0)/sqrt(4*3*2*1) = 3/sqrt(24); Brier = (0.01+0.16+0.04+0.49+0.04)/5 = 0.148
    // (Five answers are too few to beat chance at 5 %: the formula is checked with the chance test off.)
    const recs = [img(1, 0.9), img(1, 0.6), img(0, 0.2), img(0, 0.7), img(1, 0.8)];
    expect(scoreWindow(recs)).toMatchObject({ beyondChance: false, sn34: 0 });
    const w = scoreWindow(recs, { ...DEFAULT_POLICY, beyondChanceZ: -Infinity });
    const mcc = 3 / Math.sqrt(24);
    expect(w.mcc).toBeCloseTo(mcc, 12);
    expect(w.brier).toBeCloseTo(0.148, 12);
    expect(w.sn34).toBeCloseTo(Math.sqrt(((mcc + 1) / 2) ** 1.2 * ((0.25 - 0.148) / 0.25) ** 1.8), 12);
  });

  it('timeouts and invalid answers count as confidently wrong', () => {
    const silent = scoreWindow([img(1, null), img(0, null), img(1, null), img(0, null), img(1, null)]);
    expect(silent).toMatchObject({ mcc: -1, brier: 1, sn34: 0 });
    // One miss among perfect answers: Brier 1/5 = 0.2, MCC of 4 right + 1 wrong (fn): tp=2 tn=2 fn=1
    const oneMiss = scoreWindow([img(1, 1), img(0, 0), img(1, 1), img(0, 0), img(1, null)]);
    expect(oneMiss.brier).toBeCloseTo(0.2, 12);
    expect(oneMiss.mcc).toBeCloseTo(4 / Math.sqrt(2 * 3 * 2 * 3), 12);
  });

  it('keeps only the newest 200 answers', () => {
    const old = Array.from({ length: 300 }, (_, i) => img((i % 2) as 0 | 1, null));
    const fresh = Array.from({ length: 200 }, (_, i) => img((i % 2) as 0 | 1, i % 2));
    expect(scoreWindow([...old, ...fresh]).sn34).toBe(1);
    expect(scoreWindow([...old, ...fresh]).n).toBe(200);
  });

  it('combines image 0.6 and video 0.4; an unscored modality contributes 0', () => {
    const images = [img(1, 1), img(0, 0), img(1, 1), img(0, 0), img(1, 1)];
    const videos = [vid(1, 1), vid(0, 0), vid(1, 1), vid(0, 0), vid(1, 1)];
    expect(scoreMiner(images).score).toBeCloseTo(0.6, 12);
    expect(scoreMiner([...images, ...videos]).score).toBeCloseTo(1, 12);
    expect(scoreMiner([...images, ...videos.slice(0, 4)]).score).toBeCloseTo(0.6, 12);
    expect(DEFAULT_POLICY.window).toBe(200);
  });
});

/** `n` answers to labels drawn at 50 %, each answer `answer(truth, rng)`; seeded. */
function stream(seed: string, n: number, answer: (truth: 0 | 1, rng: Rng) => number): AnswerRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const truth: 0 | 1 = rng.chance(0.5) ? 1 : 0;
    return img(truth, answer(truth, rng));
  });
}
const OFF = { ...DEFAULT_POLICY, beyondChanceZ: -Infinity };
/** A weak honest detector, about as good as the shipped bundle on generated items (sn34 ~0.1-0.15). */
const weakDetector = (t: 0 | 1, rng: Rng) => Math.min(0.99, Math.max(0.01, 0.5 + (t ? 0.12 : -0.12) + rng.gaussian() * 0.22));

describe('skill beyond chance', () => {
  it('chanceZ: 0 for a constant stream or one class; large for a perfect ranking; tie-corrected', () => {
    expect(chanceZ([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])).toBe(0);
    expect(chanceZ([1, 1, 1], [0.9, 0.1, 0.5])).toBe(0);
    // 10 AI above 10 real, no ties: U = 100, mean 50, sd sqrt(100 * 21 / 12) -> z = 50 / 13.23 = 3.78.
    const y = Array.from({ length: 20 }, (_, i) => (i < 10 ? 1 : 0));
    expect(
      chanceZ(
        y,
        y.map((t, i) => (t ? 0.6 + i / 100 : 0.4 - i / 100)),
      ),
    ).toBeCloseTo(50 / Math.sqrt((100 * 21) / 12), 9);
    // The same ordering with every AI answer tied (at 0.9) and every real one tied (at 0.1): fewer orderings, bigger z.
    expect(
      chanceZ(
        y,
        y.map((t) => (t ? 0.9 : 0.1)),
      ),
    ).toBeGreaterThan(3.78);
  });

  it('a label-blind stream that answers the prior keeps no score, even with one lucky confident answer', () => {
    // The label collector of bench/lookup-attack.ts: the prior (P(AI) 0.5) for 148 challenges, one confident right.
    const recs = stream('collector', 149, () => 0.5);
    const lucky = recs.findIndex((r) => r.truth === 0);
    recs[lucky] = img(0, 0.1);
    const raw = scoreWindow(recs, OFF);
    expect(raw.sn34).toBeGreaterThan(0.005); // the floor sn34 alone leaves it
    const w = scoreWindow(recs);
    expect(w.z).toBeLessThan(1.2);
    expect(w).toMatchObject({ beyondChance: false, sn34: 0 });
  });

  it("a stream that answers the window's base rate keeps no score (sn34's Brier term alone pays it)", () => {
    const recs = stream('base-rate', 200, () => 0).map((r, i) => img(i < 130 ? 1 : 0, 0.65));
    expect(scoreWindow(recs, OFF).sn34).toBeGreaterThan(0.02);
    expect(scoreWindow(recs)).toMatchObject({ beyondChance: false, sn34: 0 });
  });

  it('answers independent of the labels pass the test about 5 % of the time, and then with almost no sn34', () => {
    let passed = 0;
    let total = 0;
    for (let k = 0; k < 400; k++) {
      // Near the prior, jittered: the most a label-blind stream can get from sn34's Brier term.
      const w = scoreWindow(stream(`chance-${k}`, 200, (_t, rng) => 0.5 + rng.range(-0.1, 0.1)));
      if (w.beyondChance) passed++;
      total += w.sn34;
    }
    expect(passed / 400).toBeGreaterThan(0.01);
    expect(passed / 400).toBeLessThan(0.1);
    // Mean sn34 over all windows: about 1 % of the weak detector's below (0.1-0.15).
    expect(total / 400).toBeLessThan(0.002);
  });

  it('a weak but informative detector passes almost always and keeps its sn34', () => {
    let passed = 0;
    for (let k = 0; k < 200; k++) {
      const recs = stream(`weak-${k}`, 150, weakDetector);
      const w = scoreWindow(recs);
      if (w.beyondChance) {
        passed++;
        expect(w.sn34).toBe(scoreWindow(recs, OFF).sn34);
      }
    }
    expect(passed / 200).toBeGreaterThan(0.98);
  });

  it('information without calibration passes the test: every answer above 0.5, AI ranked above real', () => {
    const recs = stream('uncalibrated', 100, (t) => (t ? 0.7 : 0.6));
    const w = scoreWindow(recs);
    expect(w.beyondChance).toBe(true);
    expect(w.sn34).toBeCloseTo(sn34(w.mcc, w.brier), 12);
  });

  it("next to a weak honest detector, a label-blind stream's weight is about zero", () => {
    const ratio = (policy: typeof DEFAULT_POLICY) => {
      let sum = 0;
      for (let k = 0; k < 200; k++) {
        const honest = scoreMiner(stream(`h-${k}`, 150, weakDetector), policy).score;
        const blind = scoreMiner(
          stream(`b-${k}`, 150, (_t, rng) => (rng.chance(0.02) ? 0.1 : 0.5)),
          policy,
        ).score;
        const w = weightShares(
          new Map([
            ['honest', honest],
            ['blind', blind],
          ]),
        );
        sum += w.get('blind')! / w.get('honest')!;
      }
      return sum / 200;
    };
    // A prior with the odd confident guess (right half the time): with sn34 alone its weight is a few percent of
    // the honest miner's; with the chance test, mean over windows, well under 1 %.
    expect(ratio(OFF)).toBeGreaterThan(0.01);
    expect(ratio(DEFAULT_POLICY)).toBeLessThan(0.005);
  });
});
