// Which media are worth scoring, and which source to read. Pure: collectors pass in what they measured.

export const MIN_SIDE = 64;
/** data: URLs shorter than this are placeholders and tracking pixels, not pictures. */
export const MIN_DATA_URL_LENGTH = 2048;

export type SkipReason = 'no-source' | 'tiny' | 'svg' | 'tracker' | 'scheme';

export interface MediaFacts {
  /** The URL the element shows (currentSrc for <img>/<picture>/<video>), '' when none. */
  url: string;
  /** Rendered size in CSS pixels. */
  width: number;
  height: number;
  /** Intrinsic size (naturalWidth/videoWidth), 0 when not known yet (still loading). */
  naturalWidth: number;
  naturalHeight: number;
}

/** Null when the item should be scored, otherwise why not. */
export function skipReason(m: MediaFacts): SkipReason | null {
  if (!m.url) return 'no-source';
  const url = m.url.trim();
  const lower = url.slice(0, 64).toLowerCase();
  if (lower.startsWith('data:')) {
    if (lower.startsWith('data:image/svg')) return 'svg';
    if (url.length < MIN_DATA_URL_LENGTH) return 'tracker';
  } else if (!/^(https?:|blob:)/.test(lower)) {
    return 'scheme';
  } else if (/\.svgz?(?:[?#]|$)/i.test(url.split(/[?#]/)[0] ?? '')) {
    return 'svg';
  }
  if (m.width < MIN_SIDE || m.height < MIN_SIDE) return 'tiny';
  if (m.naturalWidth > 0 && m.naturalHeight > 0 && (m.naturalWidth < MIN_SIDE || m.naturalHeight < MIN_SIDE)) return 'tiny';
  return null;
}

/** The IntersectionObserver margin that counts as "about to be visible": one screen ahead. */
export const LOOKAHEAD_MARGIN = '100% 0px 100% 0px';

/** Where a badge sits: the top-right corner of the element's box, in document coordinates, clamped inside it. */
export function badgePosition(
  rect: { left: number; top: number; width: number; height: number },
  scroll: { x: number; y: number },
  badge: { width: number; height: number },
  inset = 6,
): { left: number; top: number } {
  const left = rect.left + scroll.x + Math.max(0, rect.width - badge.width - inset);
  const top = rect.top + scroll.y + Math.min(inset, Math.max(0, rect.height - badge.height));
  return { left: Math.round(left), top: Math.round(top) };
}

/** The badge's box (CSS px): the same for every badge, so its size says nothing about the score it shows. */
export const BADGE_SIZE = { width: 56, height: 18 } as const;

/**
 * Where a badge's details box goes, as an offset from the badge's top-left corner: under the badge and right-aligned
 * with it, moved left or right to stay inside the viewport (a badge near the left edge would otherwise push the box
 * off screen), and above the badge when there is no room below but there is above. `badge` is in viewport px.
 */
export function tooltipOffset(
  badge: { left: number; top: number; width: number; height: number },
  tip: { width: number; height: number },
  viewport: { width: number; height: number },
  margin = 4,
): { left: number; top: number } {
  const preferred = badge.left + badge.width - tip.width;
  const left = Math.max(margin, Math.min(preferred, viewport.width - tip.width - margin));
  const below = badge.top + badge.height;
  const above = badge.top - tip.height;
  const top = below + tip.height > viewport.height - margin && above >= margin ? above : below;
  return { left: Math.round(left - badge.left), top: Math.round(top - badge.top) };
}
