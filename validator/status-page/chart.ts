/**
 * The weights chart's arithmetic, pure so it is tested in Node: series names a reader recognises (uid and a short
 * hotkey, as in the miners table, not a bare "1"), and a time axis with round ticks.
 */
import type { StatusSnapshot } from '../src/status/types.js';

export const shortHotkey = (k: string) => (k.length > 14 ? `${k.slice(0, 6)}…${k.slice(-6)}` : k);

/**
 * A weights history key (a uid once the validator is on a chain, a hotkey without one) -> "uid 3 · 5FHneW…M694ty".
 * A uid with no miner in the table is still named by its uid.
 */
export function seriesLabel(key: string, miners: StatusSnapshot['miners']): string {
  const byUid = /^\d+$/.test(key) ? miners.find((m) => m.uid === Number(key)) : undefined;
  if (byUid) return `uid ${byUid.uid} · ${shortHotkey(byUid.hotkey)}`;
  if (/^\d+$/.test(key)) return `uid ${key}`;
  const byHotkey = miners.find((m) => m.hotkey === key);
  return byHotkey?.uid !== null && byHotkey?.uid !== undefined ? `uid ${byHotkey.uid} · ${shortHotkey(key)}` : shortHotkey(key);
}

const STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/** Round tick times in [t0, t1], at most `max` of them, on a step from 1 s to a day (local clock labels). */
export function timeTicks(t0: number, t1: number, max = 6): number[] {
  if (!(t1 > t0)) return [t0];
  const step = STEPS_MS.find((s) => (t1 - t0) / s <= max - 1) ?? STEPS_MS[STEPS_MS.length - 1]!;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  // A span shorter than one step (the first weights) still gets its start labelled.
  return ticks.length ? ticks : [t0];
}

/** HH:MM, or HH:MM:SS when the ticks are less than a minute apart. */
export function tickLabel(t: number, stepMs: number): string {
  const d = new Date(t);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}${stepMs < 60_000 ? `:${two(d.getSeconds())}` : ''}`;
}
