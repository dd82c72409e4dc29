// Integration: generated video challenges with the committed TAE-shaped fixture (models/fixtures/tae-tiny) run by the
// real onnxruntime-node in the real child process, real clips from $VERACITY_DATASET cut by the real ffmpeg, and the
// real libx264 pass.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '@veracity/protocol';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { DATASET, TAE_FIXTURE } from '../test-support/helpers.js';
import { makeClipPool } from '../test-support/pool.js';
import { ChallengeDataset } from './dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from './factory.js';
import { datasetClipPool, folderClipPool, GENERATED_VIDEO_SIDE, GeneratedVideoSource } from './generated-video.js';
import { GenerationErrorCode, loadTaeModels, TaeRunner } from './tae.js';

const dataset = ChallengeDataset.load(DATASET);
const FRAMES = DEFAULT_CHALLENGE_CONFIG.videoFrames;
/** Mean absolute difference per byte of two frames of one size. */
const meanDiff = (a: Buffer, b: Buffer) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

describe('generated video source (fixture models, a real-clip pool)', () => {
  let runner: TaeRunner;
  let pool: string;
  beforeAll(() => {
    runner = new TaeRunner(loadTaeModels(TAE_FIXTURE));
    pool = makeClipPool(dataset);
  });
  afterAll(async () => runner.close());

  it('makes clips of every label: the frames of a clip, one square crop, through the autoencoder and H.264', async () => {
    const source = new GeneratedVideoSource(await folderClipPool(pool), runner, {
      seed: 'v',
      ahead: 3,
      demand: { real: 1, synthetic: 1, semisynthetic: 1 },
      frames: FRAMES,
    });
    expect(source.status().pool).toEqual({ kind: 'folder', clips: 3 }); // 2 clips and the broken one
    const made = await Promise.all(LABELS.map((l) => source.make(l, new Rng('same draw'))));
    for (const [i, clip] of made.entries()) {
      expect(clip.label).toBe(LABELS[i]);
      expect(clip.frames).toHaveLength(FRAMES);
      const side = clip.frames[0]!.width;
      expect(side % 8).toBe(0);
      expect(side).toBeGreaterThanOrEqual(GENERATED_VIDEO_SIDE[0]);
      expect(side).toBeLessThanOrEqual(GENERATED_VIDEO_SIDE[1]);
      for (const f of clip.frames) expect([f.width, f.height, f.data.length]).toEqual([side, side, side * side * 3]);
      expect(clip.source.path).toMatch(/^folder:(trip\/)?c\d\.mp4$/);
      if (clip.label === 'real') expect([clip.family, clip.source.group]).toEqual([null, 'generated-video-real']);
      else expect(clip.source.group).toBe(`generated-video-tae-${clip.family}`);
    }
    // The same draw picks the same clip, window and crop whatever the label: the synthetic frames are the real
    // ones round-tripped, close to them and not them; the frames of a clip differ from each other (it moves).
    const [real, synthetic] = made;
    expect(synthetic!.frames[0]!.width).toBe(real!.frames[0]!.width);
    for (let k = 0; k < FRAMES; k++) {
      const d = meanDiff(real!.frames[k]!.data, synthetic!.frames[k]!.data);
      expect(d).toBeGreaterThan(0.5);
      expect(d).toBeLessThan(60);
    }
    expect(meanDiff(real!.frames[0]!.data, real!.frames[FRAMES - 1]!.data)).toBeGreaterThan(0.5);
    expect(source.status().made).toMatchObject({ clip: 1 });
  }, 60_000);

  it('fills bounded queues in the background; take never waits; a broken clip is dropped and counted', async () => {
    const source = new GeneratedVideoSource(await folderClipPool(pool), runner, {
      seed: 'q',
      ahead: 4,
      demand: { real: 50, synthetic: 35, semisynthetic: 15 },
      frames: FRAMES,
    });
    expect(source.capacity).toEqual({ real: 2, synthetic: 1, semisynthetic: 1 });
    expect(source.take('real')).toBeUndefined();
    source.start();
    await source.whenFull();
    expect(source.status().ahead).toEqual(source.capacity);
    const s = source.status();
    expect(Object.values(s.made).reduce((a, b) => a + b, 0)).toBe(4);
    // The broken clip fails at most once, then it is out of the pool.
    expect(s.pool.clips + s.failures).toBe(3);
    expect(source.take('synthetic')!.frames).toHaveLength(FRAMES);
    expect(source.take('synthetic')).toBeUndefined();
    await source.close();
  }, 120_000);

  it('the factory serves generated clips as video items, each miner its own JPEG frames, and falls back when none is ready', async () => {
    const config = {
      ...DEFAULT_CHALLENGE_CONFIG,
      modalityMix: { image: 0, video: 1 },
      generatedVideoShare: { real: 100, synthetic: 100, semisynthetic: 100 },
      seed: 'video-mix',
    };
    const idle = new GeneratedVideoSource(datasetClipPool(dataset), runner, {
      seed: 'i',
      ahead: 3,
      demand: { real: 1, synthetic: 1, semisynthetic: 1 },
      frames: FRAMES,
    });
    const lagging = new ChallengeFactory(dataset, config, undefined, idle);
    const fallback = await lagging.item();
    expect([fallback.origin, fallback.modality]).toEqual(['fallback', 'video']);
    expect(fallback.source.group).not.toMatch(/^generated/);
    expect(Object.values(lagging.modalityOrigins.video.fallback).reduce((a, b) => a + b, 0)).toBe(1);

    const ready = new GeneratedVideoSource(await folderClipPool(pool), runner, {
      seed: 'r',
      ahead: 3,
      demand: { real: 1, synthetic: 1, semisynthetic: 1 },
      frames: FRAMES,
    });
    ready.start();
    await ready.whenFull();
    const factory = new ChallengeFactory(dataset, config, undefined, ready);
    const item = await factory.item();
    expect([item.origin, item.modality]).toEqual(['generated', 'video']);
    expect(item.source.group).toMatch(/^generated-video-/);
    expect(factory.modalityOrigins.video.generated[item.label]).toBe(1);
    expect(factory.modalityOrigins.image.generated[item.label]).toBe(0);
    const variants = await factory.variants(item, 3);
    for (const v of variants) {
      expect(v.media).toHaveLength(FRAMES);
      expect(v.mime).toBe('image/jpeg');
      const m = await sharp(v.media[0]!).metadata();
      expect(m.format).toBe('jpeg');
      expect(m.exif).toBeUndefined();
    }
    expect(new Set(variants.map((v) => v.media[0]!.toString('base64'))).size).toBe(3);
    await ready.close();
    await idle.close();
  }, 120_000);

  it('refuses an empty or missing clip folder with E_REAL_POOL', async () => {
    await expect(folderClipPool(mkdtempSync(join(tmpdir(), 'veracity-empty-')))).rejects.toMatchObject({
      code: GenerationErrorCode.RealPool,
    });
    await expect(folderClipPool('/nonexistent/veracity-clips')).rejects.toMatchObject({ code: GenerationErrorCode.RealPool });
  });
});
