// Integration: the veracity-eval CLI as users run it (real process, fixture bundle, onnxruntime-node, sharp, ffmpeg)
// on a set made here: images of several sizes and formats, clips, and a corrupt file of each kind.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'models/bin/veracity-eval.mjs');
const FIXTURE = join(ROOT, 'models/fixtures/tiny');

let work: string;

function runEval(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, '--bundle', FIXTURE, '--threads', '1', ...args], { cwd: ROOT }, (e, stdout, stderr) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 99) : 0, stdout, stderr }),
    );
  });
}

async function image(path: string, width: number, height: number, seed: number): Promise<void> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * seed * 2654435761) >>> 24;
  const img = sharp(data, { raw: { width, height, channels: 3 } });
  await (path.endsWith('.png') ? img.png() : img.jpeg({ quality: 85 })).toFile(join(work, path));
}

function clip(path: string, source: string): void {
  execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', `${source}=size=128x96:rate=12`, '-t', '1',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', join(work, path),
  ]); // prettier-ignore
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'veracity-eval-'));
  mkdirSync(join(work, 'media'));
  await image('media/a.png', 300, 200, 1);
  await image('media/b.jpg', 64, 900, 2);
  await image('media/c.jpg', 128, 128, 3);
  writeFileSync(join(work, 'media/broken.jpg'), 'not an image');
  clip('media/cam.mp4', 'testsrc');
  clip('media/gen.mp4', 'mandelbrot');
  writeFileSync(join(work, 'media/broken.mp4'), 'not a video');
  writeFileSync(
    join(work, 'manifest.csv'),
    [
      'path,label,modality,group',
      'media/a.png,real,image,photos',
      'media/b.jpg,synthetic,image,photos',
      'media/c.jpg,semisynthetic,image,edits',
      'media/broken.jpg,real,image,edits',
      'media/cam.mp4,real,video,clips',
      'media/gen.mp4,synthetic,,clips',
      'media/broken.mp4,synthetic,video,clips',
    ].join('\n'),
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('veracity-eval', () => {
  it('scores images and clips apart, reports unreadable files of both kinds and writes the JSON report', async () => {
    const out = join(work, 'report.json');
    const run = await runEval(['--manifest', join(work, 'manifest.csv'), '--json', out, '--frames', '3']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.bundle.id).toBeTruthy();
    expect(report.overall.n).toBe(3);
    expect(Object.keys(report.groups)).toEqual(['edits', 'photos']);
    expect(report.groups.photos.n).toBe(2);
    // one class in 'edits': AUC is undefined and written as null, not NaN
    expect(report.groups.edits.auc).toBeNull();
    for (const key of ['auc', 'accuracy', 'mcc', 'brier', 'sn34']) expect(report.overall).toHaveProperty(key);
    expect(report.latency_ms.p50).toBeGreaterThan(0);
    expect(report.videos.frames).toBe(3);
    expect(report.videos.overall.n).toBe(2);
    expect(report.videos.groups.clips.n).toBe(2);
    expect(report.videos.latency_ms.p50).toBeGreaterThan(0);
    expect(report.unreadable.sort()).toEqual(['media/broken.jpg', 'media/broken.mp4']);
    expect(run.stdout).toMatch(/group \(images\)[\s\S]*OVERALL\s+3[\s\S]*group \(videos, 3 frames\)[\s\S]*OVERALL\s+2/);
    expect(run.stderr).toMatch(/unreadable video: media\/broken\.mp4: E_DECODE/);
  });

  it("reports real flagged / AI caught at 0.5 and at the bundle's operating point", async () => {
    // The fixture bundle names no operating point: only 0.5. A copy that names one (same model) gets both.
    const plain = join(work, 'plain.json');
    expect((await runEval(['--manifest', join(work, 'manifest.csv'), '--json', plain, '--no-video'])).code).toBe(0);
    const before = JSON.parse(readFileSync(plain, 'utf8'));
    expect(before.flagged.atOperatingPoint).toBeNull();
    expect(before.flagged.atDefault).toMatchObject({ threshold: 0.5, nReal: 1, nAi: 2 });

    const bundle = join(work, 'bundle-with-point');
    cpSync(FIXTURE, bundle, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    manifest.calibration.threshold = 0.0001;
    manifest.calibration.thresholdFpr = 0.05;
    writeFileSync(join(bundle, 'manifest.json'), JSON.stringify(manifest));
    const out = join(work, 'point.json');
    const run = await runEval(['--manifest', join(work, 'manifest.csv'), '--json', out, '--no-video', '--bundle', bundle]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.flagged.atDefault).toEqual(before.flagged.atDefault);
    // At a threshold of 0.0001 every item is flagged: all real and all AI.
    expect(report.flagged.atOperatingPoint).toEqual({ threshold: 0.0001, fpr: 1, tpr: 1, nReal: 1, nAi: 2 });
    expect(run.stdout).toMatch(
      /at 0\.5: +real flagged .*\n +at the bundle's operating point 0\.0001: +real flagged 100\.0% \(1 of 1\), AI caught 100\.0% \(2 of 2\)/,
    );
  });

  it('skips clips with --no-video and limits each group with --limit', async () => {
    const out = join(work, 'images-only.json');
    const run = await runEval(['--manifest', join(work, 'manifest.csv'), '--json', out, '--no-video', '--limit', '1']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.videos).toBeUndefined();
    expect(report.groups.photos.n).toBe(1);
    expect(report.overall.n).toBe(2); // a.png and c.jpg; broken.jpg is beyond the limit of 'edits'
    expect(report.unreadable).toEqual([]);
    expect(run.stderr).toMatch(/3 videos skipped: --no-video/);
  });

  it('refuses a bad --frames with exit code 2', async () => {
    const run = await runEval(['--manifest', join(work, 'manifest.csv'), '--frames', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--frames must be a whole number from 1 to 64 \(got "0"\) — fix: /);
  });
});
