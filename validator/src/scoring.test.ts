import { describe, expect, it } from 'vitest';
import { type AnswerRecord, DEFAULT_POLICY, scoreMiner, scoreWindow } from './scoring.js';

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
    const w = scoreWindow([img(1, 0.9), img(1, 0.6), img(0, 0.2), img(0, 0.7), img(1, 0.8)]);
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
