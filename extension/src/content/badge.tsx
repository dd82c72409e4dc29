// The badge: one <veracity-badge> host per scored item, with its own closed shadow root so page CSS cannot reach it,
// its CSS cannot reach the page, and page scripts cannot read it. The host carries no attributes but its position,
// and every host has the same size whatever it shows: what the model said about an image is for the user, not for
// the page (which could otherwise learn what a visitor's browser found, or probe the extension). Hosts live at the
// end of <html>, positioned over their element's top-right corner in document coordinates, and follow the element
// through resizes and scrolling; a badge whose element leaves the document goes with it.
import { render } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { BADGE_SIZE, badgePosition, tooltipOffset } from '../core/filters.js';
import type { Modality } from '@veracity/protocol/domain';
import type { BadgeInfo, Rect, ScanResult } from '../core/messages.js';
import { type BadgeView, needsLoginNote, trustNote } from '../core/verdict.js';
import { describeModel } from '../core/network/state.js';
import { Slices } from './pixels.js';

const CSS = `
:host { all: initial; }
.b { font: 600 11px/12px system-ui, sans-serif; color: #fff; border-radius: 9px; padding: 3px 4px; cursor: default;
  box-shadow: 0 1px 3px rgba(0,0,0,.35); white-space: nowrap; position: relative; display: block; box-sizing: border-box;
  width: ${BADGE_SIZE.width}px; height: ${BADGE_SIZE.height}px; text-align: center; overflow: visible; }
.tip { position: absolute; left: 0; top: ${BADGE_SIZE.height}px; min-width: 190px; width: max-content; max-width: 300px; background: #202124;
  color: #e8eaed; text-align: left; font: 400 11px/1.45 system-ui, sans-serif; padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 2px 8px rgba(0,0,0,.4); white-space: normal; box-sizing: border-box; }
.tip b { color: #fff; } .row { display: flex; justify-content: space-between; gap: 12px; }
.note { margin-bottom: 4px; color: #fdd663; min-width: 230px; }
.report { margin-top: 6px; font: 600 11px system-ui, sans-serif; color: #8ab4f8; background: none; border: 1px solid #5f6368;
  border-radius: 4px; padding: 2px 6px; cursor: pointer; }
.saved { margin-top: 6px; color: #81c995; }
`;

let shared: CSSStyleSheet | null = null;
function sheet(): CSSStyleSheet {
  if (!shared) {
    shared = new CSSStyleSheet();
    shared.replaceSync(CSS);
  }
  return shared;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** What precedes the percentage: a question mark where the score is not a verdict (grey, see verdict.ts Trust). */
const MARKS: Record<BadgeView['tone'], string> = {
  ai: 'AI',
  borderline: 'AI',
  real: '✓',
  experimental: '?',
  'needs-login': '🔒',
};

/** What a badge shows. `result` is null when there is no score (tone 'needs-login'). */
export interface BadgeContent {
  view: BadgeView;
  /** The media's URL (the badge of an unscored item says whose server refused it). */
  url: string;
  result: ScanResult | null;
  kind: Modality;
  frames: number;
  /** Saves this item's verdict receipt on the device; resolves to what to tell the user. */
  report?: () => Promise<string>;
}

/** How long details stay after the pointer leaves (room to move onto them and use the report button). */
const CLOSE_DELAY_MS = 250;

function Badge({ content }: { content: BadgeContent }) {
  const { view } = content;
  // The details are built on first hover or focus, not with the badge: 200 badges would otherwise build 200 hidden
  // tooltips, and the first toLocaleTimeString loads the locale data (measured: a 26 ms stretch on the page's main
  // thread inside the first badge's render, the extension's longest on a 200-image page).
  const [open, setOpen] = useState(false);
  const closing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reveal = () => {
    clearTimeout(closing.current);
    setOpen(true);
  };
  const hide = () => {
    clearTimeout(closing.current);
    closing.current = setTimeout(() => setOpen(false), CLOSE_DELAY_MS);
  };
  const label =
    view.tone === 'needs-login'
      ? 'Veracity: not checked, this image needs your login'
      : `Veracity: ${view.text}, ${view.percent}% AI${view.tone === 'experimental' ? ', not a verdict' : ''}`;
  return (
    <div
      class="b"
      style={{ background: view.colour }}
      tabIndex={0}
      role="status"
      aria-label={label}
      onPointerEnter={reveal}
      onPointerLeave={hide}
      onFocus={reveal}
      onBlur={hide}
    >
      {view.tone === 'needs-login' ? MARKS[view.tone] : `${MARKS[view.tone]} ${view.percent}%`}
      {open ? <Details content={content} /> : null}
    </div>
  );
}

function Details({ content }: { content: BadgeContent }) {
  const { view, result, kind, frames } = content;
  const tip = useRef<HTMLDivElement>(null);
  const [saved, setSaved] = useState('');
  // Placed before it is painted: inside the viewport whatever corner of the page the badge is in.
  useLayoutEffect(() => {
    const box = tip.current;
    const badge = box?.parentElement;
    if (!box || !badge) return;
    const o = tooltipOffset(
      badge.getBoundingClientRect(),
      { width: box.offsetWidth, height: box.offsetHeight },
      { width: document.documentElement.clientWidth, height: document.documentElement.clientHeight },
    );
    box.style.left = `${o.left}px`;
    box.style.top = `${o.top}px`;
  }, [saved]);
  if (!result) {
    return (
      <div class="tip" ref={tip}>
        <div>
          <b>{view.text}</b>
        </div>
        <div>{needsLoginNote(content.url)}</div>
      </div>
    );
  }
  const [real, synthetic, semi] = result.probabilities;
  const report = content.report;
  return (
    <div class="tip" ref={tip}>
      {view.tone === 'experimental' && result.trust ? <div class="note">{trustNote(result.trust)}</div> : null}
      <div>
        <b>{view.text}</b> — P(AI) {pct(result.ai)}
      </div>
      <div class="row">
        <span>real</span>
        <span>{pct(real)}</span>
      </div>
      <div class="row">
        <span>synthetic</span>
        <span>{pct(synthetic)}</span>
      </div>
      <div class="row">
        <span>semisynthetic</span>
        <span>{pct(semi)}</span>
      </div>
      {kind === 'video' ? <div>{frames} frame(s) averaged</div> : null}
      <div>
        {describeModel(result.model)} · {result.backend} · {result.ms.toFixed(0)} ms
      </div>
      <div>scanned {new Date(result.at).toLocaleTimeString()}</div>
      {saved ? (
        <div class="saved">{saved}</div>
      ) : report ? (
        <button
          class="report"
          type="button"
          onClick={(e) => {
            // Only the user's own click: a page cannot reach into a closed shadow root, and synthetic events are not
            // trusted, so nothing but a person files a report.
            if (!e.isTrusted) return;
            void report().then(setSaved, (err: unknown) => setSaved(`Not saved: ${String(err)}`));
          }}
        >
          Report a wrong verdict
        </button>
      ) : null}
    </div>
  );
}

interface Placed {
  host: HTMLElement;
  /** Closed: only this reference reaches it. */
  root: ShadowRoot;
  content: BadgeContent | null;
}

function rectOf(r: DOMRect): Rect {
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

export class BadgeLayer {
  private readonly badges = new Map<Element, Placed>();
  private readonly resize = new ResizeObserver(() => this.schedule());
  /** Badge DOM work and placement, in slices of at most 6 ms (tasks, not animation frames: see Slices). */
  private readonly slices = new Slices((deadline) => {
    for (const [el, apply] of this.pending) {
      if (performance.now() > deadline) break;
      this.pending.delete(el);
      apply();
    }
    this.place();
    return this.pending.size > 0;
  }, 6);
  private layer: HTMLElement | null = null;
  private readonly pending = new Map<Element, () => void>();
  private readonly onMove = () => this.schedule();

  constructor() {
    // Capture: scrolls of inner containers do not bubble, and badges over them must follow too.
    addEventListener('scroll', this.onMove, { capture: true, passive: true });
    addEventListener('resize', this.onMove, { passive: true });
  }

  /**
   * Shows (or updates) the badge of `el`. DOM work runs in a later task within a time budget, so a
   * burst of results (a batch of 8 arriving together) never becomes one long task on the page's main thread.
   */
  show(el: Element, content: BadgeContent): void {
    this.pending.set(el, () => this.apply(el, content));
    this.schedule();
  }

  /** All badge hosts live in one container at the end of <html>: one insertion point, its own stacking context. */
  private container(): HTMLElement {
    if (!this.layer?.isConnected) {
      this.layer = document.createElement('veracity-badges');
      this.layer.style.cssText =
        'all:initial;position:absolute;left:0;top:0;width:0;height:0;overflow:visible;z-index:2147483647;contain:layout style;';
      document.documentElement.append(this.layer);
    }
    return this.layer;
  }

  private apply(el: Element, content: BadgeContent): void {
    if (!content.view.show || !el.isConnected) {
      this.remove(el);
      return;
    }
    let placed = this.badges.get(el);
    const fresh = !placed;
    if (!placed) {
      const host = document.createElement('veracity-badge');
      host.style.cssText = `all:initial;position:absolute;left:0;top:0;display:none;width:${BADGE_SIZE.width}px;height:${BADGE_SIZE.height}px;`;
      const root = host.attachShadow({ mode: 'closed' });
      // One parsed stylesheet shared by every badge, not a <style> to parse per badge.
      root.adoptedStyleSheets = [sheet()];
      root.append(document.createElement('div'));
      placed = { host, root, content: null };
      this.badges.set(el, placed);
      this.resize.observe(el);
    }
    placed.content = content;
    render(<Badge content={content} />, placed.root.lastChild as Element);
    // Built while detached, inserted once.
    if (fresh) this.container().append(placed.host);
  }

  /** Hidden while a tab capture is taken, so the badge is not part of the pixels it scores. */
  setHidden(el: Element, hidden: boolean): void {
    const placed = this.badges.get(el);
    if (placed) placed.host.style.visibility = hidden ? 'hidden' : 'visible';
  }

  remove(el: Element): void {
    this.pending.delete(el);
    const placed = this.badges.get(el);
    if (!placed) return;
    render(null, placed.root.lastChild as Element);
    placed.host.remove();
    this.resize.unobserve(el);
    this.badges.delete(el);
  }

  /** Drops badges whose element is gone from the document. */
  prune(): void {
    for (const el of [...this.badges.keys()]) if (!el.isConnected) this.remove(el);
  }

  clear(): void {
    this.pending.clear();
    for (const el of [...this.badges.keys()]) this.remove(el);
  }

  get count(): number {
    return this.badges.size;
  }

  /** The badges in the document, read through their closed shadow roots (for the extension's own contexts only). */
  describe(): BadgeInfo[] {
    const out: BadgeInfo[] = [];
    for (const { host, root, content } of this.badges.values()) {
      if (!content || !host.isConnected) continue;
      const tip = root.querySelector('.tip');
      const button = root.querySelector('.report');
      const r = content.result;
      out.push({
        key: r?.key ?? content.url,
        kind: content.kind,
        tone: content.view.tone,
        ...(r ? { ai: r.ai, probs: [...r.probabilities], backend: r.backend } : {}),
        frames: content.frames,
        text: root.textContent ?? '',
        rect: rectOf(host.getBoundingClientRect()),
        tip: tip ? rectOf(tip.getBoundingClientRect()) : null,
        reportButton: button ? rectOf(button.getBoundingClientRect()) : null,
      });
    }
    return out;
  }

  private schedule(): void {
    this.slices.schedule();
  }

  private place(): void {
    const scroll = { x: scrollX, y: scrollY };
    // Read every rect first, then write: one layout per frame however many badges there are.
    const reads = [...this.badges].map(([el, p]) => [p, el.isConnected ? el.getBoundingClientRect() : null] as const);
    for (const [p, rect] of reads) {
      if (!rect || rect.width === 0 || rect.height === 0) {
        p.host.style.display = 'none';
        continue;
      }
      const { left, top } = badgePosition(rect, scroll, BADGE_SIZE);
      p.host.style.display = '';
      p.host.style.transform = `translate(${left}px, ${top}px)`;
    }
  }
}
