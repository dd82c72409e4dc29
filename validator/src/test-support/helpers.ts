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

/**
 * A loopback source address other than 127.0.0.1 (Linux routes all of 127.0.0.0/8 to lo): hostile test clients dial
 * from these so per-address limits can be exercised, and do not fall on, the honest miners on 127.0.0.1.
 */
export function hostileAddress(i: number): string {
  return `127.0.${1 + (Math.floor(i / 250) % 250)}.${2 + (i % 250)}`;
}

/** The committed TAE-shaped ONNX fixture (npm run fixture:tae): two tiny "families", a few KB. */
export const TAE_FIXTURE = resolve(import.meta.dirname, '../../../models/fixtures/tae-tiny');
