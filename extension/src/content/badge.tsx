// The badge: one <veracity-badge> host per scored item, with its own shadow root so page CSS cannot reach it and
// its CSS cannot reach the page. Hosts live at the end of <html>, positioned over their element's top-right corner
// in document coordinates, and follow the element through resizes and scrolling; a badge whose element leaves the
// document goes with it.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { badgePosition } from '../core/filters.js';
import type { MediaKind, ScanResult } from '../core/messages.js';
import { type BadgeView, trustNote } from '../core/verdict.js';
import { Slices } from './pixels.js';

const CSS = `
:host { all: initial; }
.b { font: 600 11px/1 system-ui, sans-serif; color: #fff; border-radius: 9px; padding: 3px 7px; cursor: default;
  box-shadow: 0 1px 3px rgba(0,0,0,.35); white-space: nowrap; position: relative; display: inline-block; }
.tip { display: none; position: absolute; right: 0; top: 20px; min-width: 190px; background: #202124; color: #e8eaed;
  font: 400 11px/1.45 system-ui, sans-serif; padding: 8px 10px; border-radius: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.4); }
.b:hover .tip, .b:focus .tip { display: block; }
.tip b { color: #fff; } .row { display: flex; justify-content: space-between; gap: 12px; }
.note { margin-bottom: 4px; color: #fdd663; min-width: 230px; white-space: normal; }
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
const MARKS: Record<BadgeView['tone'], string> = { ai: 'AI', borderline: 'AI', real: '✓', experimental: '?' };

function Badge({ view, result, kind, frames }: { view: BadgeView; result: ScanResult; kind: MediaKind; frames: number }) {
  // The details are built on first hover or focus, not with the badge: 200 badges would otherwise build 200 hidden
  // tooltips, and the first toLocaleTimeString loads the locale data (measured: a 26 ms stretch on the page's main
  // thread inside the first badge's render, the extension's longest on a 200-image page).
  const [open, setOpen] = useState(false);
  const reveal = () => setOpen(true);
  return (
    <div
      class="b"
      style={{ background: view.colour }}
      tabIndex={0}
      role="status"
      aria-label={`Veracity: ${view.text}, ${view.percent}% AI${view.tone === 'experimental' ? ', not a verdict' : ''}`}
      onPointerEnter={reveal}
      onFocus={reveal}
    >
      {MARKS[view.tone]} {view.percent}%{open ? <Details view={view} result={result} kind={kind} frames={frames} /> : null}
    </div>
  );
}

function Details({ view, result, kind, frames }: { view: BadgeView; result: ScanResult; kind: MediaKind; frames: number }) {
  const [real, synthetic, semi] = result.probabilities;
  return (
    <div class="tip">
      {view.tone === 'experimental' && result.trust ? (
        <div class="note" data-testid="trust-note">
          {trustNote(result.trust)}
        </div>
      ) : null}
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
        {result.model.id} {result.model.version} · {result.backend} · {result.ms.toFixed(0)} ms
      </div>
      <div>scanned {new Date(result.at).toLocaleTimeString()}</div>
    </div>
  );
}

interface Placed {
  host: HTMLElement;
  root: ShadowRoot;
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
  show(el: Element, view: BadgeView, result: ScanResult, kind: MediaKind, frames = 1): void {
    this.pending.set(el, () => this.apply(el, view, result, kind, frames));
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

  private apply(el: Element, view: BadgeView, result: ScanResult, kind: MediaKind, frames: number): void {
    if (!view.show || !el.isConnected) {
      this.remove(el);
      return;
    }
    let placed = this.badges.get(el);
    const fresh = !placed;
    if (!placed) {
      const host = document.createElement('veracity-badge');
      host.style.cssText = 'all:initial;position:absolute;left:0;top:0;display:none;';
      const root = host.attachShadow({ mode: 'open' });
      // One parsed stylesheet shared by every badge, not a <style> to parse per badge.
      root.adoptedStyleSheets = [sheet()];
      root.append(document.createElement('div'));
      placed = { host, root };
      this.badges.set(el, placed);
      this.resize.observe(el);
    }
    const d = placed.host.dataset;
    d.key = result.key;
    d.kind = kind;
    d.tone = view.tone;
    d.ai = String(result.ai);
    d.probs = JSON.stringify(result.probabilities);
    d.backend = result.backend;
    d.frames = String(frames);
    render(<Badge view={view} result={result} kind={kind} frames={frames} />, placed.root.lastChild as Element);
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
      const size = { width: 64, height: 18 };
      const { left, top } = badgePosition(rect, scroll, size);
      p.host.style.display = '';
      p.host.style.transform = `translate(${left}px, ${top}px)`;
    }
  }
}
