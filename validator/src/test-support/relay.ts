import type { Probabilities } from '@veracity/models/node';

/**
 * The copier of issue 24: hotkeys that answer with another miner's answers. Each copier receives its own variant
 * of the round's item, so it cannot match by bytes or id; it relays the first answer the source miner gives after
 * its own challenge arrived (or the source's latest, if none comes before its deadline). Used by
 * copying.int.test.ts and bench/lookup-attack.ts.
 */
export class AnswerRelay {
  private last: { at: number; p: Probabilities } | undefined;
  private waiters: Array<{ since: number; resolve: (p: Probabilities | null) => void }> = [];

  /** Feed the source miner's answers (its 'answered' events). */
  onSourceAnswer(p: Probabilities): void {
    this.last = { at: Date.now(), p };
    const due = this.waiters.filter((w) => w.since <= this.last!.at);
    this.waiters = this.waiters.filter((w) => w.since > this.last!.at);
    for (const w of due) w.resolve(p);
  }

  /** The answer to relay for a challenge that arrived at `since` and is due at `deadline` (epoch ms). */
  next(since: number, deadline: number): Promise<Probabilities | null> {
    if (this.last && this.last.at >= since) return Promise.resolve(this.last.p);
    return new Promise((resolve) => {
      const w = { since, resolve };
      this.waiters.push(w);
      setTimeout(
        () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(this.last?.p ?? null);
        },
        Math.max(0, deadline - Date.now() - 300),
      );
    });
  }
}
