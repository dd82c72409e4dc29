import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Modality } from '@veracity/protocol/domain';
import type { GeneratedVideoView, GenerationView } from './types.js';

/** Each generated source configured, by modality. */
function bySource(g: GenerationView | null | undefined): Array<[Modality, GenerationView | GeneratedVideoView]> {
  if (!g) return [];
  return g.video
    ? [
        ['image', g],
        ['video', g.video],
      ]
    : [['image', g]];
}

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
      help: 'Challenge items drawn, by label, origin (static, generated, or fallback: a generated draw served static because none was ready) and modality',
      labelNames: ['label', 'origin', 'modality'] as const,
      registers: [registry],
    }),
    generatedAhead: new Gauge({
      name: 'veracity_generated_ahead',
      help: 'Generated challenge items ready, by label and modality',
      labelNames: ['label', 'modality'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [modality, g] of bySource(generation?.()))
          for (const [label, n] of Object.entries(g.ahead)) this.set({ label, modality }, n);
      },
    }),
    generatedMade: new Counter({
      name: 'veracity_generated_items_total',
      help: "Challenge items generated since start, by autoencoder family ('photo', 'clip': real items from the pool) and modality",
      labelNames: ['family', 'modality'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [modality, g] of bySource(generation?.()))
          for (const [family, n] of Object.entries(g.made)) this.inc({ family, modality }, n);
      },
    }),
    generatedFailures: new Counter({
      name: 'veracity_generated_failures_total',
      help: 'Generated items that failed (unreadable or too small pool photo or clip, round-trip error), by modality',
      labelNames: ['modality'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [modality, g] of bySource(generation?.())) this.inc({ modality }, g.failures);
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
