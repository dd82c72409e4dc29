/** Latency percentiles over a sliding window, and the recent series the page charts. Pure. */

/** Nearest-rank percentile (q in [0,1]) of a sample; undefined for an empty one. */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export class LatencyWindow {
  private readonly values: number[] = [];

  constructor(private readonly size = 200) {}

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.values.push(ms);
    if (this.values.length > this.size) this.values.shift();
  }

  get count(): number {
    return this.values.length;
  }

  p50(): number | undefined {
    return percentile(this.values, 0.5);
  }

  p95(): number | undefined {
    return percentile(this.values, 0.95);
  }

  /** The latest `n` values, oldest first. */
  recent(n = 60): number[] {
    return this.values.slice(-n);
  }
}
