/**
 * Items made ahead in the background, one bounded queue per label: the machinery the generated image source
 * (generated.ts) and the generated video source (generated-video.ts) share. `take` never waits: an empty queue
 * answers undefined, and the factory serves a static item instead (and counts it as a fallback).
 */
import { type Label, LABELS } from '@veracity/models';
import { Rng } from '../random.js';

/** After this many failures in a row generation pauses (a broken pool or model must not spin a core). */
const FAILURES_BEFORE_PAUSE = 5;
const PAUSE_MS = 10_000;

export interface AheadOptions {
  seed: number | string;
  /** Items kept ready, all labels together (split by demand). */
  ahead: number;
  /** How often each label is asked of this source, relatively (label mix x generated share): sizes its queue. */
  demand: Record<Label, number>;
}

/** What every made-ahead source shows on the status page and in /metrics. */
export interface AheadStatus {
  /** Items ready per label, and how many each queue holds at most. */
  ahead: Record<Label, number>;
  capacity: Record<Label, number>;
  /** Items made since start, by kind (an autoencoder family, or what real items are called), and wall seconds. */
  made: Record<string, number>;
  seconds: Record<string, number>;
  failures: number;
  lastError: string | null;
}

export abstract class MadeAhead<T> {
  protected readonly rng: Rng;
  private readonly queues: Record<Label, T[]> = { real: [], synthetic: [], semisynthetic: [] };
  readonly capacity: Record<Label, number>;
  private readonly made: Record<string, number> = {};
  private readonly seconds: Record<string, number> = {};
  private failures = 0;
  private failuresInRow = 0;
  private lastError: string | null = null;
  private counter = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private fullWaiters: Array<() => void> = [];

  /** `stream` names this source's seeded stream, so two sources under one seed draw differently. */
  constructor(stream: string, options: AheadOptions) {
    this.rng = new Rng(`${stream}:${options.seed}`);
    const total = LABELS.reduce((s, l) => s + Math.max(0, options.demand[l]), 0);
    this.capacity = Object.fromEntries(
      LABELS.map((l) => [
        l,
        options.demand[l] > 0 && total > 0 ? Math.max(1, Math.round((options.ahead * options.demand[l]) / total)) : 0,
      ]),
    ) as Record<Label, number>;
  }

  /** One item of `label`, drawn with `rng`. */
  abstract make(label: Label, rng: Rng): Promise<T>;

  /** Starts filling the queues in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** A ready item of `label`, or undefined when its queue is empty (never waits for generation). */
  take(label: Label): T | undefined {
    const item = this.queues[label].shift();
    if (item) this.wake?.();
    return item;
  }

  /** Resolves when every queue is full (tests and benchmarks wait on it; rounds never do). */
  whenFull(): Promise<void> {
    if (this.neediest() === undefined) return Promise.resolve();
    return new Promise((ok) => this.fullWaiters.push(ok));
  }

  protected aheadStatus(): AheadStatus {
    return {
      ahead: Object.fromEntries(LABELS.map((l) => [l, this.queues[l].length])) as Record<Label, number>,
      capacity: { ...this.capacity },
      made: { ...this.made },
      seconds: Object.fromEntries(Object.entries(this.seconds).map(([k, v]) => [k, Math.round(v * 100) / 100])),
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Counts one item of `kind` made, started at `t0` (performance.now()). */
  protected count(kind: string, t0: number): void {
    this.made[kind] = (this.made[kind] ?? 0) + 1;
    this.seconds[kind] = (this.seconds[kind] ?? 0) + (performance.now() - t0) / 1000;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** The label whose queue is emptiest relative to its capacity; undefined when all are full. */
  private neediest(): Label | undefined {
    let best: Label | undefined;
    let fill = 1;
    for (const l of LABELS) {
      if (this.capacity[l] === 0) continue;
      const f = this.queues[l].length / this.capacity[l];
      if (f < fill) [best, fill] = [l, f];
    }
    return best;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const label = this.neediest();
      if (label === undefined) {
        for (const ok of this.fullWaiters.splice(0)) ok();
        await new Promise<void>((ok) => (this.wake = ok));
        continue;
      }
      const rng = this.rng.fork(this.counter++);
      try {
        const item = await this.make(label, rng);
        this.failuresInRow = 0;
        if (!this.stopped) this.queues[label].push(item);
      } catch (e) {
        this.failures++;
        this.lastError = e instanceof Error ? e.message : String(e);
        if (++this.failuresInRow >= FAILURES_BEFORE_PAUSE) {
          await new Promise<void>((ok) => {
            this.wake = ok;
            setTimeout(ok, PAUSE_MS).unref();
          });
          this.failuresInRow = 0;
        }
      }
    }
  }
}
