// Integration: real files from the dataset through sharp and ffmpeg. Uses $VERACITY_DATASET (default ../shared/datasets).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { applyAugment, decodeSource, drawAugment, MAX_SIDE, OUTPUT_SIDE } from './augment.js';
import { ChallengeDataset } from './dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from './factory.js';
import { DATASET } from '../test-support/helpers.js';

const dataset = ChallengeDataset.load(DATASET);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('challenge factory (real dataset, sharp, ffmpeg)', () => {
  it('is deterministic under a seed and differs across seeds', async () => {
    const config = { ...DEFAULT_CHALLENGE_CONFIG, modalityMix: { image: 1, video: 0 }, seed: 'test-seed' };
    const a = new ChallengeFactory(dataset, config);
    const b = new ChallengeFactory(dataset, config);
    const c = new ChallengeFactory(dataset, { ...config, seed: 'other-seed' });
    for (let i = 0; i < 3; i++) {
      const [x, y, z] = await Promise.all([a.next(), b.next(), c.next()]);
      expect(x.id).toBe(y.id);
      expect(sha(x.media[0]!)).toBe(sha(y.media[0]!));
      expect(x.id).not.toBe(z.id);
    }
  });

  it('never sends the dataset file as is: every level crops, resizes to a drawn size and re-encodes without metadata', async () => {
    const row = dataset.rows.find((r) => r.modality === 'image')!;
    const original = await sharp(dataset.path(row)).toBuffer();
    const decoded = await decodeSource(dataset.path(row));
    const rng = new Rng(1);
    for (const level of ['none', 'geometric', 'medium', 'hard'] as const) {
      const p = drawAugment(rng, level);
      const out = await applyAugment(decoded, p, rng.fork('n'));
      expect(sha(out)).not.toBe(sha(original));
      const meta = await sharp(out).metadata();
      expect([meta.width, meta.height]).toEqual([p.width, p.height]);
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(MAX_SIDE);
      expect(meta.exif).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(meta.comments).toBeUndefined();
      expect(meta.format).toBe(p.format.type);
    }
  });

  it('gives each miner of a round its own bytes and id, at sizes that do not follow the source', async () => {
    const f = new ChallengeFactory(dataset, { ...DEFAULT_CHALLENGE_CONFIG, modalityMix: { image: 1, video: 0 }, seed: 'v' });
    const item = await f.item();
    const variants = await f.variants(item, 8);
    expect(new Set(variants.map((v) => v.id)).size).toBe(8);
    expect(new Set(variants.map((v) => sha(v.media[0]!))).size).toBe(8);
    expect(new Set(variants.map((v) => v.label))).toEqual(new Set([item.label]));
    const sides = await Promise.all(variants.map(async (v) => sharp(v.media[0]!).metadata()));
    for (const m of sides) {
      expect(Math.max(m.width!, m.height!)).toBeGreaterThanOrEqual(OUTPUT_SIDE[0]);
      expect(Math.max(m.width!, m.height!)).toBeLessThanOrEqual(OUTPUT_SIDE[1]);
    }
    expect(new Set(sides.map((m) => `${m.width}x${m.height}`)).size).toBeGreaterThan(4);
    // The same seed gives the same variants in the same order, however the encodes interleave.
    const g = new ChallengeFactory(dataset, { ...DEFAULT_CHALLENGE_CONFIG, modalityMix: { image: 1, video: 0 }, seed: 'v' });
    const again = await g.variants(await g.item(), 8);
    expect(again.map((v) => sha(v.media[0]!))).toEqual(variants.map((v) => sha(v.media[0]!)));
  });

  it('augments formats libvips has no loader for (BMP through ffmpeg) like any other', async () => {
    const row = dataset.rows.find((r) => r.modality === 'image')!;
    const dir = mkdtempSync(join(tmpdir(), 'veracity-bmp-'));
    const png = join(dir, 'a.png');
    const bmp = join(dir, 'a.bmp');
    await sharp(dataset.path(row)).png().toFile(png);
    execFileSync('ffmpeg', ['-v', 'error', '-i', png, bmp]);
    await expect(sharp(bmp).metadata()).rejects.toThrow(/unsupported image format/);
    const p = { ...drawAugment(new Rng(5), 'geometric'), format: { type: 'png' as const } };
    const [fromBmp, fromPng] = await Promise.all(
      [bmp, png].map(async (src) =>
        sharp(await applyAugment(await decodeSource(src), p, new Rng(6)))
          .raw()
          .toBuffer(),
      ),
    );
    // A PNG and its lossless BMP copy give the same challenge pixels.
    expect(sha(fromBmp!)).toBe(sha(fromPng!));
  });

  it('follows the label mix (50/35/15) over many draws', async () => {
    const rng = new Rng(3);
    const counts = { real: 0, synthetic: 0, semisynthetic: 0 };
    for (let i = 0; i < 4000; i++) counts[dataset.sample(rng, 'image', DEFAULT_CHALLENGE_CONFIG.labelMix).label]++;
    expect(counts.real / 4000).toBeCloseTo(0.5, 1);
    expect(counts.synthetic / 4000).toBeCloseTo(0.35, 1);
    expect(counts.semisynthetic / 4000).toBeCloseTo(0.15, 1);
  });

  it('cuts video challenges into frame lists', async () => {
    const f = new ChallengeFactory(dataset, {
      ...DEFAULT_CHALLENGE_CONFIG,
      modalityMix: { image: 0, video: 1 },
      videoFrames: 4,
      seed: 9,
    });
    const c = await f.next();
    expect(c.modality).toBe('video');
    expect(c.media).toHaveLength(4);
    for (const frame of c.media) expect((await sharp(frame).metadata()).width).toBeGreaterThan(0);
    expect(new Set(c.media.map(sha)).size).toBe(4);
  }, 60_000);

  it('skips a corrupt file and records it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'veracity-ds-'));
    writeFileSync(join(dir, 'bad.jpg'), 'not an image');
    writeFileSync(
      join(dir, 'good.png'),
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
    );
    writeFileSync(join(dir, 'manifest.csv'), 'path,label,modality,group\nbad.jpg,real,image,g\ngood.png,synthetic,image,g\n');
    const f = new ChallengeFactory(ChallengeDataset.load(dir), { ...DEFAULT_CHALLENGE_CONFIG, seed: 5 });
    const labels = new Set<string>();
    for (let i = 0; i < 6; i++) labels.add((await f.next()).label);
    expect(labels).toEqual(new Set(['synthetic']));
    expect(f.unreadable).toHaveLength(1);
    expect(f.unreadable[0]?.path).toBe('bad.jpg');
  });

  it('cuts a source of any size to the drawn output size, within the maximum side', async () => {
    for (const [width, height] of [
      [4000, 3000],
      [1600, 1000],
      [200, 150],
    ] as const) {
      const big = await sharp({ create: { width, height, channels: 3, background: '#406080' } })
        .png()
        .toBuffer();
      const decoded = await decodeSource(big);
      expect(Math.max(decoded.width, decoded.height)).toBeLessThanOrEqual(MAX_SIDE);
      const rng = new Rng(`${width}`);
      for (let i = 0; i < 4; i++) {
        const p = drawAugment(rng, 'hard');
        const meta = await sharp(await applyAugment(decoded, p, rng.fork('n'))).metadata();
        expect([meta.width, meta.height], `${width}x${height}`).toEqual([p.width, p.height]);
      }
    }
  });

  it('loads regular files inside the folder only, each row rejected once with its reason, no absolute paths', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'veracity-outside-'));
    writeFileSync(join(outside, 'secret.png'), await tinyPng());
    const dir = mkdtempSync(join(tmpdir(), 'veracity-ds-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'good.png'), await tinyPng());
    execFileSync('mkfifo', [join(dir, 'wedge.jpg')]);
    symlinkSync(join(outside, 'secret.png'), join(dir, 'escape.png'));
    symlinkSync(join(dir, 'sub', 'good.png'), join(dir, 'alias.png')); // a link inside the folder is fine
    writeFileSync(
      join(dir, 'manifest.csv'),
      [
        'path,label',
        'sub/good.png,real',
        'wedge.jpg,real',
        'escape.png,real',
        'missing.png,real',
        'sub/good.png,real',
        'x.png,fake',
        'sub,real',
      ].join('\n'),
    );
    const logged: Array<{ where: string; reason: string }> = [];
    const ds = ChallengeDataset.load(dir, (r) => logged.push(r));
    expect(ds.rows.map((r) => r.path)).toEqual(['sub/good.png']);
    expect(logged).toEqual(ds.rejected);
    expect(logged.map((r) => `${r.where}: ${r.reason}`).sort()).toEqual(
      [
        'line 7: unknown label "fake"',
        'wedge.jpg: a FIFO, not a regular file',
        'escape.png: resolves (through a link) outside the dataset folder',
        'missing.png: file not found',
        'sub/good.png: listed twice (as sub/good.png)',
        'sub: a directory, not a regular file',
      ].sort(),
    );
    expect(JSON.stringify(logged)).not.toContain(tmpdir());
    // A FIFO swapped in after load is refused when used, at once (opened non-blocking), never waited on.
    const f = new ChallengeFactory(ds, { ...DEFAULT_CHALLENGE_CONFIG, modalityMix: { image: 1, video: 0 }, seed: 1 });
    execFileSync('rm', [join(dir, 'sub', 'good.png')]);
    execFileSync('mkfifo', [join(dir, 'sub', 'good.png')]);
    const t0 = Date.now();
    await expect(f.next()).rejects.toThrow(); // the only row is quarantined: nothing left to draw
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(f.unreadable[0]).toEqual({ path: 'sub/good.png', error: 'sub/good.png: a FIFO, not a regular file' });
    expect(JSON.stringify(f.unreadable)).not.toContain(tmpdir());
  });

  it('refuses a manifest that gives one file two labels, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'veracity-ds-'));
    writeFileSync(join(dir, 'a.png'), 'x');
    writeFileSync(join(dir, 'manifest.csv'), 'path,label\na.png,real\n./a.png,synthetic\n');
    expect(() => ChallengeDataset.load(dir)).toThrow(/\.\/a\.png is listed as real and as synthetic/);
  });
});

async function tinyPng(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
}
