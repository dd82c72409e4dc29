import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GenerationView } from './types.js';

/**
 * Prometheus metrics of one validator (served at /metrics). One registry per instance keeps tests isolated.
 * `generation` reads the generated-challenge source's state at scrape time (absent or null: none configured).
 */
export function createMetrics(generation?: () => GenerationView | null) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'veracity_validator_' });
  return {
    registry,
    minersConnected: new Gauge({
      name: 'veracity_miners_connected',
      help: 'Authenticated miner connections',
      registers: [registry],
    }),
    rounds: new Counter({ name: 'veracity_rounds_total', help: 'Challenge rounds dispatched', registers: [registry] }),
    answers: new Counter({
      name: 'veracity_answers_total',
      help: 'Answers recorded, by outcome (ok, timeout, invalid)',
      labelNames: ['outcome', 'modality'] as const,
      registers: [registry],
    }),
    answerLatency: new Histogram({
      name: 'veracity_answer_latency_seconds',
      help: 'Dispatch to recorded answer',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 12],
      registers: [registry],
    }),
    prepareSeconds: new Histogram({
      name: 'veracity_challenge_prepare_seconds',
      help: "Time to draw, decode, augment and encode one challenge (a round's item and its variants, per variant)",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    challengeItems: new Counter({
      name: 'veracity_challenge_items_total',
      help: 'Challenge items drawn, by label and origin: static, generated, or fallback (a generated draw served static because none was ready)',
      labelNames: ['label', 'origin'] as const,
      registers: [registry],
    }),
    generatedAhead: new Gauge({
      name: 'veracity_generated_ahead',
      help: 'Generated challenge items ready, by label',
      labelNames: ['label'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [label, n] of Object.entries(generation?.()?.ahead ?? {})) this.set({ label }, n);
      },
    }),
    generatedMade: new Counter({
      name: 'veracity_generated_items_total',
      help: "Challenge items generated since start, by autoencoder family ('photo': real items from the pool)",
      labelNames: ['family'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [family, n] of Object.entries(generation?.()?.made ?? {})) this.inc({ family }, n);
      },
    }),
    generatedFailures: new Counter({
      name: 'veracity_generated_failures_total',
      help: 'Generated items that failed (unreadable or too small pool photo, round-trip error)',
      registers: [registry],
      collect() {
        this.reset();
        const g = generation?.();
        if (g) this.inc(g.failures);
      },
    }),
    revealed: new Counter({
      name: 'veracity_reveal_items_total',
      help: 'Challenge labels and salts revealed to miners after their window',
      registers: [registry],
    }),
    revealMismatches: new Counter({
      name: 'veracity_reveal_mismatches_total',
      help: 'Reveal items miners reported as not matching the commitment they were sent (E_REVEAL_MISMATCH)',
      registers: [registry],
    }),
    protocolErrors: new Counter({
      name: 'veracity_protocol_errors_total',
      help: 'Refused frames and connections, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    minerScore: new Gauge({
      name: 'veracity_miner_score',
      help: 'Combined sn34 score per miner',
      labelNames: ['hotkey'] as const,
      registers: [registry],
    }),
    copyGroupSize: new Gauge({
      name: 'veracity_copy_group_size',
      help: 'Hotkeys whose answers agree far more than their accuracies explain: the size of the group each is in',
      labelNames: ['hotkey'] as const,
      registers: [registry],
    }),
    bundleMismatches: new Counter({
      name: 'veracity_bundle_mismatches_total',
      help: 'Times a miner was seen declaring a bundle it has not published on chain (counted once per change)',
      labelNames: ['hotkey'] as const,
      registers: [registry],
    }),
    weightsSet: new Counter({
      name: 'veracity_weights_total',
      help: 'Weight submissions, by result',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
