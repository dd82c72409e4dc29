import type { GenerationView } from '../src/status/types.js';

/** One queue of generated items: how full it is (the bar the card draws), per label. */
export interface QueueRow {
  label: string;
  ahead: number;
  capacity: number;
  /** ahead / capacity in [0, 1]; 0 for a label this validator never generates (capacity 0). */
  fill: number;
}

/** What the status page shows about generated challenges, in the order an operator reads it. */
export interface GenerationSummary {
  queues: QueueRow[];
  /** Items made per family, most first, with mean seconds each ('photo' = real items). */
  families: Array<{ family: string; made: number; secondsEach: number | null }>;
  /** Share of generated draws served static because no item was ready, as a percentage string. */
  fallback: string;
  /** A warning in plain words when generation lags or fails, else null. */
  warning: string | null;
}

/** Above this fallback share the page warns: generation does not keep up with the round rate. */
export const FALLBACK_WARN = 0.2;

/** Either source's view (images, or clips: GenerationView.video); the pool is described by the caller. */
export function summariseGeneration(g: Omit<GenerationView, 'pool' | 'video'>): GenerationSummary {
  const queues = Object.keys(g.capacity).map((label) => {
    const ahead = g.ahead[label] ?? 0;
    const capacity = g.capacity[label] ?? 0;
    return { label, ahead, capacity, fill: capacity > 0 ? Math.min(1, ahead / capacity) : 0 };
  });
  const families = Object.entries(g.made)
    .map(([family, made]) => ({
      family,
      made,
      secondsEach: made > 0 && g.seconds[family] !== undefined ? g.seconds[family]! / made : null,
    }))
    .sort((a, b) => b.made - a.made || a.family.localeCompare(b.family));
  let warning: string | null = null;
  if (g.lastError !== null) warning = `generation failed ${g.failures} time(s); last: ${g.lastError}`;
  else if (g.fallbackShare > FALLBACK_WARN)
    warning = `${(g.fallbackShare * 100).toFixed(0)} % of generated draws were served static: generation does not keep up (more --generator-threads, a longer round interval, or smaller generated shares)`;
  return { queues, families, fallback: `${(g.fallbackShare * 100).toFixed(1)} %`, warning };
}
