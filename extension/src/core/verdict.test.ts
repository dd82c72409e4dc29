import { describe, expect, it } from 'vitest';
import {
  badgeView,
  COLOURS,
  MIN_VIDEO_AUC,
  MIN_VIDEO_CLIPS,
  needsLoginNote,
  needsLoginView,
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
