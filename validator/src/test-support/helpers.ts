import { join, resolve } from 'node:path';

/** The labelled set integration tests read: $VERACITY_DATASET, else ../shared/datasets beside the checkout. */
export const DATASET = resolve(process.env.VERACITY_DATASET ?? join(import.meta.dirname, '../../../../shared/datasets'));

/** Polls `cond` until it holds, failing with `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
