import { describe, expect, it } from 'vitest';
import { badgeView, COLOURS, meanOf } from './verdict.js';

describe('badgeView', () => {
  it('flags at the threshold on P(AI) = synthetic + semisynthetic', () => {
    const v = badgeView([0.5, 0.3, 0.2], 0.5, true);
    expect(v).toMatchObject({ flagged: true, tone: 'ai', percent: 50, colour: COLOURS.ai, show: true });
  });
  it('just below the threshold is borderline (amber), well below is real (green)', () => {
    expect(badgeView([0.6, 0.3, 0.1], 0.5, true)).toMatchObject({ tone: 'borderline', flagged: false, percent: 40 });
    expect(badgeView([0.9, 0.05, 0.05], 0.5, true)).toMatchObject({ tone: 'real', colour: COLOURS.real, percent: 10 });
  });
  it('real-looking items get no badge when the user turns that off; flagged and borderline still do', () => {
    expect(badgeView([0.9, 0.05, 0.05], 0.5, false).show).toBe(false);
    expect(badgeView([0.6, 0.3, 0.1], 0.5, false).show).toBe(true);
  });
  it('the threshold moves the verdict', () => {
    expect(badgeView([0.4, 0.6, 0], 0.7, true).flagged).toBe(false);
    expect(badgeView([0.4, 0.6, 0], 0.2, true).flagged).toBe(true);
  });
  it('meanOf averages frames', () => {
    expect(
      meanOf([
        [1, 0, 0],
        [0, 1, 0],
      ]),
    ).toEqual([0.5, 0.5, 0]);
    expect(meanOf([])).toEqual([0, 0, 0]);
  });
});
