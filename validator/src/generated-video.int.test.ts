// Integration: the validator CLI's composition (runValidator) with generated video challenges from the committed
// TAE-shaped fixture and a private real-clip folder: real ffmpeg and libx264, real onnxruntime-node in the niced child
// process, real WebSockets, real SQLite, a Node miner that receives the clips' frames.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChallengeDataset } from './challenges/dataset.js';
import { DEFAULT_CHALLENGE_CONFIG } from './challenges/factory.js';
import { DEFAULTS } from './config.js';
import { createLogger } from './log.js';
import { runValidator, type RunningValidator } from './main.js';
import { NodeMiner } from './miner/node-miner.js';
import type { StatusSnapshot } from './status/types.js';
import { DATASET, TAE_FIXTURE, until } from './test-support/helpers.js';
import { makeClipPool } from './test-support/pool.js';

describe('validator with generated video challenges (fixture TAE, private clip folder)', () => {
  let validator: RunningValidator;
  let db: string;
  const miners: NodeMiner[] = [];
  /** What the miner received: challenge id, modality, frame count and the first frame's format. */
  const received: Array<{ id: string; modality: string; frames: number; format?: string }> = [];

  beforeAll(async () => {
    db = join(mkdtempSync(join(tmpdir(), 'veracity-genvid-')), 'v.db');
    validator = await runValidator(
      {
        ...DEFAULTS,
        dataset: DATASET,
        db,
        port: 0,
        seed: 'generated-video-test',
        roundIntervalMs: 500,
        timeoutMs: 4000,
        videoShare: 100,
        revealEveryRounds: 2,
        weightsIntervalMs: 3_600_000,
        taeModels: TAE_FIXTURE,
        realClips: makeClipPool(ChallengeDataset.load(DATASET)),
        generatedVideo: 100,
        generatedVideoAhead: 3,
        logLevel: 'error',
      },
      { log: createLogger('error') },
    );
  }, 60_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await validator?.close();
  }, 30_000);

  it('serves generated clips as video challenges over the socket, labels committed and revealed', async () => {
    const m = new NodeMiner({
      url: validator.url,
      signer: new Keyring({ type: 'sr25519' }).addFromUri('//Bob'),
      netuid: DEFAULTS.netuid,
      behaviour: 'custom',
      answerWith: async (c) => {
        received.push({
          id: c.id,
          modality: c.modality,
          frames: c.media.length,
          format: (await sharp(c.media[0]!).metadata()).format,
        });
        return [0.5, 0.3, 0.2];
      },
    });
    miners.push(m);
    await m.start();
    const rows = () => {
      const conn = new Database(db, { readonly: true });
      try {
        return conn.prepare('SELECT id, label, modality, source_group AS g FROM challenges').all() as Array<{
          id: string;
          label: string;
          modality: string;
          g: string;
        }>;
      } finally {
        conn.close();
      }
    };
    await until(() => rows().filter((r) => r.g.startsWith('generated-video-')).length >= 3, 90_000, '3 generated clips');
    await until(() => m.audit.snapshot().verified >= 3, 30_000, 'reveals');

    const generated = rows().filter((r) => r.g.startsWith('generated-video-'));
    for (const r of generated) {
      expect(r.modality).toBe('video');
      if (r.g === 'generated-video-real') expect(r.label).toBe('real');
      else {
        expect(r.g).toMatch(/^generated-video-tae-tiny-[ab]$/);
        expect(['synthetic', 'semisynthetic']).toContain(r.label);
      }
    }
    const ids = new Set(generated.map((r) => r.id));
    const got = received.filter((r) => ids.has(r.id));
    expect(got.length).toBeGreaterThanOrEqual(1);
    for (const r of got)
      expect(r).toMatchObject({ modality: 'video', frames: DEFAULT_CHALLENGE_CONFIG.videoFrames, format: 'jpeg' });
    expect(m.audit.snapshot().mismatched).toBe(0);

    const base = validator.url.replace(/^ws/, 'http');
    const status = (await (await fetch(`${base}api/status`)).json()) as StatusSnapshot;
    const v = status.generation!.video!;
    expect(v.pool).toEqual({ kind: 'folder', clips: 2 }); // the broken clip was dropped
    expect(v.families).toEqual(['tiny-a', 'tiny-b']);
    expect(v.capacity).toEqual({ real: 2, synthetic: 1, semisynthetic: 1 }); // 3 split 50/35/15, at least 1 each
    expect(Object.values(v.served).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(generated.length);
    expect(v.fallbackShare).toBeGreaterThanOrEqual(0);
    expect(v.fallbackShare).toBeLessThan(1);
    // Images are not asked at a video share of 100: nothing served from the image source.
    expect(Object.values(status.generation!.served).reduce((a, b) => a + b, 0)).toBe(0);
    const metrics = await (await fetch(`${base}metrics`)).text();
    expect(metrics).toMatch(/veracity_challenge_items_total\{label="\w+",origin="generated",modality="video"\} [1-9]/);
    expect(metrics).toMatch(/veracity_generated_items_total\{family="(clip|tiny-a|tiny-b)",modality="video"\} [1-9]/);
    expect(metrics).toMatch(/veracity_generated_ahead\{label="real",modality="video"\} \d/);
    expect(metrics).toMatch(/veracity_generated_failures_total\{modality="video"\} [1-9]/);
  }, 150_000);
});
