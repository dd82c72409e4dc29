// Integration: the validator CLI's composition (runValidator) with generated challenges from the committed TAE-shaped
// fixture and a real-photo pool, real WebSockets, real SQLite, two Node miners; and without TAE models, as before.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_SIDE } from './challenges/augment.js';
import { ChallengeDataset } from './challenges/dataset.js';
import { DEFAULTS } from './config.js';
import { runValidator, type RunningValidator } from './main.js';
import { NodeMiner } from './miner/node-miner.js';
import type { StatusSnapshot } from './status/types.js';
import { DATASET, TAE_FIXTURE, until } from './test-support/helpers.js';
import { makePool } from './test-support/pool.js';
import { createLogger } from './log.js';

describe('validator with generated challenges (fixture TAE, private pool)', () => {
  let validator: RunningValidator;
  let db: string;
  const miners: NodeMiner[] = [];
  const served: Array<{ id: string; width: number; height: number }> = [];
  const keyring = new Keyring({ type: 'sr25519' });

  beforeAll(async () => {
    db = join(mkdtempSync(join(tmpdir(), 'veracity-gen-')), 'v.db');
    validator = await runValidator(
      {
        ...DEFAULTS,
        dataset: DATASET,
        db,
        port: 0,
        seed: 'generated-test',
        roundIntervalMs: 0,
        timeoutMs: 2000,
        videoShare: 0,
        revealEveryRounds: 2,
        weightsIntervalMs: 3_600_000,
        taeModels: TAE_FIXTURE,
        realPool: await makePool(ChallengeDataset.load(DATASET)),
        generatedReal: 60,
        generatedSynthetic: 60,
        generatedSemisynthetic: 60,
        generatedAhead: 6,
        logLevel: 'error',
      },
      { log: createLogger('error') },
    );
  }, 60_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await validator?.close();
  }, 30_000);

  it('serves generated items among static ones, each miner its own variant, labels committed and revealed', async () => {
    for (const uri of ['//Bob', '//Charlie']) {
      const m = new NodeMiner({
        url: validator.url,
        signer: keyring.addFromUri(uri),
        netuid: DEFAULTS.netuid,
        behaviour: 'custom',
        answerWith: async (c) => {
          const meta = await sharp(c.media[0]!).metadata();
          served.push({ id: c.id, width: meta.width!, height: meta.height! });
          return [0.5, 0.3, 0.2];
        },
      });
      miners.push(m);
      await m.start();
    }
    const rows = () =>
      new Database(db, { readonly: true }).prepare('SELECT id, label, source_group AS g FROM challenges').all() as Array<{
        id: string;
        label: string;
        g: string;
      }>;
    await until(() => rows().filter((r) => r.g.startsWith('generated-tae-')).length >= 6, 60_000, '6 generated AI challenges');
    await until(() => miners.every((m) => m.audit.snapshot().verified >= 6), 30_000, 'reveals');

    const base = validator.url.replace(/^ws/, 'http');
    const servedNow = async () => {
      const s = (await (await fetch(`${base}api/status`)).json()) as StatusSnapshot;
      return Object.values(s.generation!.served).reduce((a, b) => a + b, 0);
    };
    // Rounds go on while this reads: the served count before the rows and after them brackets what the rows hold.
    const itemsBefore = await servedNow();
    const all = rows();
    const itemsAfter = await servedNow();
    const generated = all.filter((r) => r.g.startsWith('generated-'));
    for (const r of generated) {
      if (r.g === 'generated-real') expect(r.label).toBe('real');
      else {
        expect(r.g).toMatch(/^generated-tae-tiny-[ab]$/);
        expect(['synthetic', 'semisynthetic']).toContain(r.label);
      }
    }
    expect(all.some((r) => !r.g.startsWith('generated-'))).toBe(true);
    // Every miner's commitments verified against the reveals, generated items included.
    for (const m of miners) expect(m.audit.snapshot().mismatched).toBe(0);
    // Generated items go through the per-miner variant pipeline: drawn sizes, never the 256-448 squares made.
    const generatedIds = new Set(generated.map((r) => r.id));
    const mine = served.filter((s) => generatedIds.has(s.id));
    expect(mine.length).toBeGreaterThan(4);
    for (const s of mine) {
      expect(Math.max(s.width, s.height)).toBeGreaterThanOrEqual(OUTPUT_SIDE[0]);
      expect(Math.max(s.width, s.height)).toBeLessThanOrEqual(OUTPUT_SIDE[1]);
    }
    expect(new Set(served.map((s) => s.id)).size).toBe(served.length);

    const status = (await (await fetch(`${base}api/status`)).json()) as StatusSnapshot;
    const g = status.generation!;
    expect(g.families).toEqual(['tiny-a', 'tiny-b']);
    expect(g.pool).toMatchObject({ kind: 'folder' });
    // One row per miner's variant (two miners); the item prepared for the next round is counted, not yet sent.
    expect(itemsAfter * 2).toBeGreaterThanOrEqual(generated.length);
    expect(itemsBefore * 2).toBeLessThanOrEqual(generated.length + 2);
    expect(g.fallbackShare).toBeGreaterThanOrEqual(0);
    expect(g.fallbackShare).toBeLessThan(1);
    expect(g.capacity).toEqual({ real: 3, synthetic: 2, semisynthetic: 1 });
    const metrics = await (await fetch(`${base}metrics`)).text();
    expect(metrics).toMatch(
      /veracity_challenge_items_total\{label="(synthetic|semisynthetic)",origin="generated",modality="image"\} [1-9]/,
    );
    expect(metrics).toMatch(/veracity_generated_items_total\{family="tiny-(a|b)",modality="image"\} [1-9]/);
    expect(metrics).toMatch(/veracity_generated_ahead\{label="real",modality="image"\} \d/);
    // Video is not served (video share 0): no video source.
    expect(status.generation!.video).toBeNull();
  }, 120_000);
});

describe('validator without TAE models', () => {
  it('runs static challenges only and says so in /api/status', async () => {
    const v = await runValidator(
      {
        ...DEFAULTS,
        dataset: DATASET,
        db: join(mkdtempSync(join(tmpdir(), 'veracity-gen-')), 'v.db'),
        port: 0,
        seed: 'static',
        weightsIntervalMs: 3_600_000,
        logLevel: 'error',
      },
      { log: createLogger('error') },
    );
    try {
      const base = v.url.replace(/^ws/, 'http');
      const status = (await (await fetch(`${base}api/status`)).json()) as StatusSnapshot;
      expect(status.generation).toBeNull();
      expect(await (await fetch(`${base}metrics`)).text()).not.toMatch(/veracity_generated_items_total\{/);
    } finally {
      await v.close();
    }
  });
});
