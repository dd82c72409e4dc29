import { describe, expect, it } from 'vitest';
import { badgePosition, skipReason, tooltipOffset } from './filters.js';

const big = { width: 300, height: 200, naturalWidth: 600, naturalHeight: 400 };

describe('skipReason', () => {
  it('keeps ordinary pictures', () => {
    expect(skipReason({ url: 'https://a.org/p.jpg', ...big })).toBeNull();
    expect(skipReason({ url: 'blob:https://a.org/123', ...big })).toBeNull();
    // Still loading: natural size unknown, rendered size decides.
    expect(skipReason({ url: 'https://a.org/p.jpg', ...big, naturalWidth: 0, naturalHeight: 0 })).toBeNull();
  });
  it('skips icons and tiny images (< 64 px rendered or intrinsic)', () => {
    expect(skipReason({ url: 'https://a.org/i.png', ...big, width: 32, height: 32 })).toBe('tiny');
    expect(skipReason({ url: 'https://a.org/i.png', ...big, width: 63 })).toBe('tiny');
    expect(skipReason({ url: 'https://a.org/i.png', ...big, naturalWidth: 48, naturalHeight: 48 })).toBe('tiny');
    expect(skipReason({ url: 'https://a.org/i.png', ...big, width: 64, height: 64 })).toBeNull();
  });
  it('skips SVG, tracking pixels and odd schemes', () => {
    expect(skipReason({ url: 'https://a.org/logo.svg?v=2', ...big })).toBe('svg');
    expect(skipReason({ url: 'data:image/svg+xml,<svg/>', ...big })).toBe('svg');
    expect(skipReason({ url: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=', ...big })).toBe('tracker');
    expect(skipReason({ url: `data:image/png;base64,${'A'.repeat(4000)}`, ...big })).toBeNull();
    expect(skipReason({ url: 'chrome://favicon/x', ...big })).toBe('scheme');
    expect(skipReason({ url: '', ...big })).toBe('no-source');
  });
});

describe('badgePosition', () => {
  it('top-right corner in document coordinates', () => {
    expect(badgePosition({ left: 10, top: 20, width: 200, height: 100 }, { x: 0, y: 500 }, { width: 50, height: 20 })).toEqual({
      left: 154,
      top: 526,
    });
  });
  it('stays inside a box smaller than the badge', () => {
    expect(badgePosition({ left: 0, top: 0, width: 30, height: 10 }, { x: 0, y: 0 }, { width: 50, height: 20 })).toEqual({
      left: 0,
      top: 0,
    });
  });
});

describe('tooltipOffset', () => {
  const viewport = { width: 1200, height: 900 };
  const tip = { width: 220, height: 150 };
  it('sits under the badge, right-aligned with it, when there is room', () => {
    const badge = { left: 600, top: 100, width: 56, height: 18 };
    expect(tooltipOffset(badge, tip, viewport)).toEqual({ left: 56 - 220, top: 18 });
  });
  it('moves right to stay inside the viewport when the badge is near the left edge', () => {
    const badge = { left: 10, top: 100, width: 56, height: 18 };
    const o = tooltipOffset(badge, tip, viewport);
    expect(badge.left + o.left).toBe(4);
    expect(badge.left + o.left + tip.width).toBeLessThanOrEqual(viewport.width);
  });
  it('stays inside on the right too, and goes above the badge at the bottom of the viewport', () => {
    const badge = { left: 1190, top: 850, width: 56, height: 18 };
    const o = tooltipOffset(badge, tip, viewport);
    expect(badge.left + o.left + tip.width).toBe(1196);
    expect(badge.top + o.top).toBe(850 - 150);
  });
  it('stays below when there is no room above either (a tall box in a short window)', () => {
    const badge = { left: 600, top: 40, width: 56, height: 18 };
    expect(tooltipOffset(badge, { width: 220, height: 300 }, { width: 1200, height: 200 }).top).toBe(18);
  });
});
