// The scoring queue: batching, dedupe by key (the media URL) and a result cache. Pure: the offscreen document gives
// it a function that scores a batch.

export interface QueueOptions<T, R> {
  keyOf(item: T): string;
  /** Scores a batch; one result or Error per item, in order. A throw fails the whole batch. */
  process(items: T[]): Promise<Array<R | Error>>;
  maxBatch?: number;
  /** Results kept (least recently used dropped first). */
  cacheSize?: number;
  /** Whether a result may be cached (for example not for live video frames, which change). */
  cacheable?(item: T): boolean;
}

export interface QueueStats {
  submitted: number;
  cacheHits: number;
  deduped: number;
  batches: number;
  processed: number;
  largestBatch: number;
}

interface Pending<T, R> {
  item: T;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class ScoringQueue<T, R> {
  private readonly cache = new Map<string, R>();
  private readonly inflight = new Map<string, Promise<R>>();
  private waiting: Array<Pending<T, R>> = [];
  private draining = false;
  private readonly maxBatch: number;
  private readonly cacheSize: number;
  readonly stats: QueueStats = { submitted: 0, cacheHits: 0, deduped: 0, batches: 0, processed: 0, largestBatch: 0 };

  constructor(private readonly options: QueueOptions<T, R>) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 8);
    this.cacheSize = Math.max(0, options.cacheSize ?? 500);
  }

  /** A cached result, the promise of an identical request already queued or running, or a new place in the queue. */
  submit(item: T): Promise<R> {
    this.stats.submitted++;
    const key = this.options.keyOf(item);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      this.cache.delete(key);
      this.cache.set(key, cached);
      return Promise.resolve(cached);
    }
    const running = this.inflight.get(key);
    if (running) {
      this.stats.deduped++;
      return running;
    }
    const promise = new Promise<R>((resolve, reject) => this.waiting.push({ item, resolve, reject }));
    this.inflight.set(key, promise);
    // Wait a microtask turn so requests arriving together (one scroll, one page load) form one batch.
    queueMicrotask(() => void this.drain());
    return promise;
  }

  get size(): number {
    return this.waiting.length;
  }

  clearCache(): void {
    this.cache.clear();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatch);
        this.stats.batches++;
        this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
        let results: Array<R | Error>;
        try {
          results = await this.options.process(batch.map((p) => p.item));
          if (results.length !== batch.length) throw new Error(`batch of ${batch.length} returned ${results.length} results`);
        } catch (e) {
          results = batch.map(() => (e instanceof Error ? e : new Error(String(e))));
        }
        batch.forEach((p, i) => this.settle(p, results[i]!));
      }
    } finally {
      this.draining = false;
    }
  }

  private settle(p: Pending<T, R>, result: R | Error): void {
    const key = this.options.keyOf(p.item);
    this.inflight.delete(key);
    this.stats.processed++;
    if (result instanceof Error) {
      p.reject(result);
      return;
    }
    if (this.cacheSize > 0 && (this.options.cacheable?.(p.item) ?? true)) {
      this.cache.set(key, result);
      while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    }
    p.resolve(result);
  }
}
