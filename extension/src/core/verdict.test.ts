import { describe, expect, it } from 'vitest';
import {
  badgeView,
  BORDERLINE_MARGIN,
  COLOURS,
  describeThreshold,
  MIN_VIDEO_AUC,
  MIN_VIDEO_CLIPS,
  needsLoginNote,
  needsLoginView,
  thresholdInForce,
  trustNote,
  videoTrust,
} from './verdict.js';

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
});

describe('the threshold in force', () => {
  const bundle = { threshold: 0.8593 };
  it("is the user's when set, else the operating point of the model that scored the item, else 0.5", () => {
    expect(thresholdInForce(0.7, bundle)).toEqual({ value: 0.7, source: 'yours' });
    expect(thresholdInForce(null, bundle)).toEqual({ value: 0.8593, source: 'model' });
    expect(thresholdInForce(null, {})).toEqual({ value: 0.5, source: 'default' });
    expect(thresholdInForce(null, undefined)).toEqual({ value: 0.5, source: 'default' });
    expect(thresholdInForce(null, { threshold: 7 })).toEqual({ value: 0.5, source: 'default' });
  });
  it('says where it comes from', () => {
    expect(describeThreshold(thresholdInForce(null, bundle))).toBe("model's operating point, 0.86");
    expect(describeThreshold(thresholdInForce(0.7, bundle))).toBe('yours, 0.70');
    expect(describeThreshold(thresholdInForce(null, {}))).toBe('default, 0.50 (this model names no operating point)');
  });
  it("at the model's operating point a 0.6 is no longer flagged, and the amber band stays below the point", () => {
    const point = thresholdInForce(null, bundle).value;
    expect(badgeView([0.4, 0.6, 0], 0.5, true).tone).toBe('ai');
    expect(badgeView([0.4, 0.6, 0], point, true)).toMatchObject({ tone: 'real', flagged: false });
    expect(badgeView([0.25, 0.75, 0], point, true)).toMatchObject({ tone: 'borderline', flagged: false });
    expect(badgeView([0.14, 0.86, 0], point, true)).toMatchObject({ tone: 'ai', flagged: true });
    expect(badgeView([1 - (point - BORDERLINE_MARGIN) + 0.001, point - BORDERLINE_MARGIN - 0.001, 0], point, true).tone).toBe(
      'real',
    );
  });
});

describe('video trust', () => {
  it('backs video verdicts only from a clip test at or above the floor, on enough clips', () => {
    expect(videoTrust({ auc: 0.54, n: 113 }).validated).toBe(false);
    expect(videoTrust({ auc: MIN_VIDEO_AUC, n: MIN_VIDEO_CLIPS }).validated).toBe(true);
    expect(videoTrust({ auc: 0.95, n: MIN_VIDEO_CLIPS - 1 }).validated).toBe(false);
    expect(videoTrust(null)).toEqual({ validated: false, auc: null, n: 0 });
  });
  it('an unvalidated score is grey and never flagged, however high', () => {
    const v = badgeView([0.05, 0.9, 0.05], 0.5, true, false);
    expect(v).toMatchObject({ tone: 'experimental', colour: COLOURS.experimental, flagged: false, percent: 95, show: true });
  });
  it("an unvalidated low score follows the user's choice about real-looking badges", () => {
    expect(badgeView([0.9, 0.05, 0.05], 0.5, false, false).show).toBe(false);
    expect(badgeView([0.9, 0.05, 0.05], 0.5, true, false)).toMatchObject({ show: true, tone: 'experimental' });
  });
  it('the note gives the numbers the judgement rests on', () => {
    expect(trustNote(videoTrust({ auc: 0.5402, n: 113 }))).toContain('113 test clips');
    expect(trustNote(videoTrust({ auc: 0.5402, n: 113 }))).toContain('AUC 0.54');
    expect(trustNote(videoTrust(null))).toContain('no video test result');
  });
});

describe('needsLoginView', () => {
  it('is a state, not a score: always shown, never flagged, grey, and it says whose server refused', () => {
    expect(needsLoginView()).toMatchObject({ show: true, tone: 'needs-login', flagged: false, text: 'Not checked' });
    expect(needsLoginNote('https://cdn.example:8443/p.jpg')).toContain('cdn.example:8443 sends this image only with your login');
    expect(needsLoginNote('not a url')).toContain('its server');
  });
});
