// Integration: generated challenges with the committed TAE-shaped fixture (models/fixtures/tae-tiny) run by the real
// onnxruntime-node in the real child process, real photos from $VERACITY_DATASET through sharp.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '@veracity/protocol';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { DATASET, TAE_FIXTURE, until } from '../test-support/helpers.js';
import { makePool as makePoolIn } from '../test-support/pool.js';
import { OUTPUT_SIDE } from './augment.js';
import { ChallengeDataset } from './dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from './factory.js';
import { cropSquare, folderPool, GeneratedSource, pasteRegion, regionMask } from './generated.js';
import { GenerationErrorCode, loadTaeModels, TaeRunner } from './tae.js';

const dataset = ChallengeDataset.load(DATASET);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const makePool = () => makePoolIn(dataset);

describe('TAE models and runner (fixture)', () => {
  let runner: TaeRunner;
  beforeAll(() => {
    runner = new TaeRunner(loadTaeModels(TAE_FIXTURE));
  });
  afterAll(async () => runner.close());

  it('refuses a folder without tae.json, or with a file that does not match its hash, with E_TAE_MODELS', () => {
    const empty = mkdtempSync(join(tmpdir(), 'veracity-tae-'));
    expect(() => loadTaeModels(empty)).toThrow(expect.objectContaining({ code: GenerationErrorCode.TaeModels }));
    const meta = { ...loadTaeModels(TAE_FIXTURE) };
    writeFileSync(join(empty, 'tae-tiny-a.onnx'), 'tampered');
    writeFileSync(
      join(empty, 'tae.json'),
      JSON.stringify({
        input: { name: 'pixels', dtype: 'uint8', layout: 'NCHW' },
        output: { name: 'roundtrip', dtype: 'uint8', layout: 'NCHW' },
        families: [
          { family: 'tiny-a', file: 'tae-tiny-a.onnx', sha256: '00' },
          { family: 'gone', file: 'gone.onnx' },
        ],
      }),
    );
    expect(() => loadTaeModels(empty)).toThrow(/tae-tiny-a.onnx does not match its sha256.*gone.onnx \(family gone\) is missing/);
    expect(meta.families.map((f) => f.family)).toEqual(['tiny-a', 'tiny-b']);
  });

  it('round-trips an image through each family: same size, close to the input, not the input', async () => {
    const row = dataset.rows.find((r) => r.group === 'photos-imagenet')!;
    const { data, info } = await sharp(dataset.path(row))
      .resize(256, 264, { fit: 'cover' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const img = { data, width: info.width, height: info.height };
    for (const family of runner.families) {
      const out = await runner.roundTrip(family, img);
      expect([out.width, out.height, out.data.length]).toEqual([256, 264, data.length]);
      let se = 0;
      for (let i = 0; i < data.length; i++) se += (data[i]! - out.data[i]!) ** 2;
      const psnr = 10 * Math.log10(255 ** 2 / (se / data.length));
      expect(psnr).toBeGreaterThan(14);
      expect(psnr).toBeLessThan(60);
      // Same input, same output: the run is deterministic.
      expect(sha((await runner.roundTrip(family, img)).data)).toBe(sha(out.data));
    }
    await expect(runner.roundTrip('tiny-a', { data: Buffer.alloc(12 * 8 * 3), width: 12, height: 8 })).rejects.toThrow(
      /multiple of 8/,
    );
    await expect(runner.roundTrip('sdxl', img)).rejects.toMatchObject({ code: GenerationErrorCode.TaeRun });
  });

  it('fails a request with E_TAE_RUN when its process dies, and starts a new process for the next', async () => {
    const img = { data: Buffer.alloc(64 * 64 * 3, 99), width: 64, height: 64 };
    await runner.roundTrip('tiny-a', img);
    const first = runner.pid!;
    const pending = runner.roundTrip('tiny-b', img);
    process.kill(first, 'SIGKILL');
    await expect(pending).rejects.toMatchObject({ code: GenerationErrorCode.TaeRun, message: /exited \(SIGKILL\)/ });
    const again = await runner.roundTrip('tiny-b', img);
    expect(again.data.length).toBe(img.data.length);
    expect(runner.pid).not.toBe(first);
  });

  it('pastes the round trip only inside the soft-edged region', async () => {
    const side = 256;
    const crop = { data: Buffer.alloc(side * side * 3, 40), width: side, height: side };
    const full = { data: Buffer.alloc(side * side * 3, 200), width: side, height: side };
    for (let seed = 0; seed < 6; seed++) {
      const mask = await regionMask(side, new Rng(seed));
      expect(mask.length).toBe(side * side);
      const covered = mask.reduce((s, m) => s + m / 255, 0) / (side * side);
      expect(covered).toBeGreaterThan(0.03);
      expect(covered).toBeLessThan(0.6);
      const out = await pasteRegion(crop, full, mask);
      let outside = 0;
      let inside = 0;
      for (let i = 0; i < side * side; i++) {
        if (mask[i] === 0 && out.data[i * 3] !== 40) outside++;
        if (mask[i] === 255 && out.data[i * 3] !== 200) inside++;
      }
      expect([outside, inside]).toEqual([0, 0]);
    }
  });
});

describe('generated source and factory (fixture models, a real-photo pool)', () => {
  let runner: TaeRunner;
  let pool: string;
  beforeAll(async () => {
    runner = new TaeRunner(loadTaeModels(TAE_FIXTURE));
    pool = await makePool();
  });
  afterAll(async () => runner.close());

  it('fills each label up to its share of the bound, from the pool, skipping files it cannot use', async () => {
    const source = new GeneratedSource(await folderPool(pool), runner, {
      seed: 's',
      ahead: 12,
      demand: { real: 50, synthetic: 35, semisynthetic: 15 },
    });
    expect(source.capacity).toEqual({ real: 6, synthetic: 4, semisynthetic: 2 });
    expect(source.status().pool).toEqual({ kind: 'folder', photos: 8 }); // 6 photos, the broken and the tiny one
    source.start();
    await source.whenFull();
    const status = source.status();
    expect(status.ahead).toEqual(source.capacity);
    // Nothing more is made while the queues are full.
    await new Promise((r) => setTimeout(r, 200));
    expect(Object.values(source.status().made).reduce((a, b) => a + b, 0)).toBe(12);
    expect(status.made.photo).toBe(6);
    expect((status.made['tiny-a'] ?? 0) + (status.made['tiny-b'] ?? 0)).toBe(6);
    const items = LABELS.flatMap((l) => Array.from({ length: source.capacity[l] }, () => source.take(l)!));
    expect(source.take('semisynthetic')).toBeUndefined();
    for (const item of items) {
      expect(item.frame.width).toBe(item.frame.height);
      expect(item.frame.width % 8).toBe(0);
      expect(item.frame.width).toBeGreaterThanOrEqual(256);
      expect(item.frame.width).toBeLessThanOrEqual(448);
      expect(item.frame.data.length).toBe(item.frame.width ** 2 * 3);
      expect(item.source.path).toMatch(/^folder:(trip\/)?p\d\.jpg$/);
      if (item.label === 'real') expect([item.family, item.source.group]).toEqual([null, 'generated-real']);
      else expect(item.source.group).toBe(`generated-tae-${item.family}`);
    }
    await source.close();
  });

  it('makes the same item from the same draw, and a real item is the photo crop itself', async () => {
    const p = await folderPool(pool);
    const source = new GeneratedSource(p, runner, { seed: 'd', ahead: 3, demand: { real: 1, synthetic: 1, semisynthetic: 1 } });
    const a = await source.make('semisynthetic', new Rng('x'));
    const b = await source.make('semisynthetic', new Rng('x'));
    expect(sha(a.frame.data)).toBe(sha(b.frame.data));
    const noReencode = new GeneratedSource(p, runner, {
      seed: 'd',
      ahead: 3,
      demand: { real: 1, synthetic: 0, semisynthetic: 0 },
      reencode: 0,
    });
    const real = await noReencode.make('real', new Rng('y'));
    const photo = await sharp(join(pool, real.source.path.replace('folder:', '')))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const decoded = { data: photo.data, width: photo.info.width, height: photo.info.height };
    // The crop sits somewhere in the photo: find its first row there.
    const side = real.frame.width;
    let found = false;
    for (let top = 0; top + side <= decoded.height && !found; top++)
      for (let left = 0; left + side <= decoded.width && !found; left++)
        if (decoded.data[(top * decoded.width + left) * 3] === real.frame.data[0])
          found = sha(cropSquare(decoded, left, top, side).data) === sha(real.frame.data);
    expect(found).toBe(true);
  });

  it('serves generated items when ready and falls back to static ones (counted) when not, with per-miner variants', async () => {
    const config = {
      ...DEFAULT_CHALLENGE_CONFIG,
      modalityMix: { image: 1, video: 0 },
      generatedShare: { real: 100, synthetic: 100, semisynthetic: 100 },
      seed: 'mix',
    };
    const idle = new GeneratedSource(await folderPool(pool), runner, {
      seed: 'i',
      ahead: 6,
      demand: { real: 1, synthetic: 1, semisynthetic: 1 },
    });
    const lagging = new ChallengeFactory(dataset, config, idle);
    for (let i = 0; i < 6; i++) {
      const item = await lagging.item();
      expect(item.origin).toBe('fallback');
      expect(item.source.group).not.toMatch(/^generated/);
    }
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    expect(sum(lagging.origins.fallback)).toBe(6);
    expect(sum(lagging.origins.generated)).toBe(0);

    const ready = new GeneratedSource(await folderPool(pool), runner, {
      seed: 'r',
      ahead: 9,
      demand: { real: 1, synthetic: 1, semisynthetic: 1 },
    });
    ready.start();
    await ready.whenFull();
    const factory = new ChallengeFactory(dataset, config, ready);
    const item = await factory.item();
    expect(item.origin).toBe('generated');
    expect(item.source.group).toMatch(/^generated-/);
    const variants = await factory.variants(item, 6);
    expect(new Set(variants.map((v) => v.id)).size).toBe(6);
    expect(new Set(variants.map((v) => sha(v.media[0]!))).size).toBe(6);
    for (const v of variants) {
      const m = await sharp(v.media[0]!).metadata();
      expect(Math.max(m.width!, m.height!)).toBeGreaterThanOrEqual(OUTPUT_SIDE[0]);
      expect(Math.max(m.width!, m.height!)).toBeLessThanOrEqual(OUTPUT_SIDE[1]);
      expect(m.exif).toBeUndefined();
      expect(v.label).toBe(item.label);
    }
    await until(() => ready.status().ahead[item.label] === ready.capacity[item.label], 20_000, 'the queue to refill');
    await ready.close();
    await idle.close();
  });

  it('with no generated source draws exactly the static stream it always did', async () => {
    const config = { ...DEFAULT_CHALLENGE_CONFIG, modalityMix: { image: 1, video: 0 }, seed: 'same' };
    const a = new ChallengeFactory(dataset, config);
    const rng = new Rng('same');
    for (let n = 0; n < 5; n++) {
      const r = rng.fork(n);
      r.weighted(config.modalityMix);
      const row = dataset.sample(r, 'image', config.labelMix);
      const item = await a.item();
      expect([item.origin, item.source.path]).toEqual(['static', row.path]);
    }
  });

  it('refuses an empty or missing pool with E_REAL_POOL', async () => {
    await expect(folderPool(mkdtempSync(join(tmpdir(), 'veracity-empty-')))).rejects.toMatchObject({
      code: GenerationErrorCode.RealPool,
    });
    await expect(folderPool('/nonexistent/veracity-pool')).rejects.toMatchObject({ code: GenerationErrorCode.RealPool });
  });
});
