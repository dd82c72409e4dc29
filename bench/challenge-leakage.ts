/**
 * Can the label be read off a challenge without looking at its pixels? Draws N image challenges (default 2,000) the
 * way the validator serves them and fits a 5-fold cross-validated logistic regression on the fields a miner reads
 * from the bytes alone: width, height, aspect, pixels, byte size, bits per pixel, format, JPEG quality (estimated
 * from the quantisation table). Real vs AI, AUC 0.5 = no information; the bar is <= 0.55. For comparison the
 * same fit on the dataset files as they are (what a static folder leaks). Prints JSON and writes
 * bench/results/challenge-leakage.json.
 *
 * With --tae-models DIR it also draws --generated-n challenges made only by the generated source (round trips of the
 * real-photo pool, --real-pool DIR or the dataset's real images; validator/README.md "Generated challenges") and fits
 * the same regression on them: generated items must not be told apart by their metadata either.
 *
 * With --tae-models DIR and --video-n N it also makes N generated clips (generated-video.ts: frames of the real-clip
 * pool, --real-clips DIR or the dataset's real clips, round-tripped frame by frame for AI labels, every label through
 * one H.264 pass), serves each as a video challenge (one variant: 8 JPEG frames) and fits the same regression on the
 * served frames (the first frame's fields, its byte size the mean over the 8): a miner never sees a clip's
 * container, codec, size or duration, only these frames. It reports the seconds each clip took by family (wall:
 * frame cut, round trips, H.264) and the model's seconds per frame.
 *
 *   npx tsx bench/challenge-leakage.ts [--n 2000] [--dataset DIR] [--tae-models DIR [--real-pool DIR] [--generated-n 300]
 *     [--video-n 0] [--real-clips DIR]]   (--generated-n 0: clips only)
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  datasetClipPool,
  datasetPool,
  folderClipPool,
  folderPool,
  GeneratedSource,
  GeneratedVideoSource,
  loadTaeModels,
  Rng,
  TaeRunner,
} from '@veracity/validator/challenges';
import {
  ChallengeDataset,
  ChallengeFactory,
  DEFAULT_CHALLENGE_CONFIG,
  type ChallengeMetadata,
  crossValidatedAuc,
  featureAucs,
  features,
  jpegQuality,
} from '@veracity/validator/challenges';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    dataset: { type: 'string', default: process.env.VERACITY_DATASET ?? '../shared/datasets' },
    seed: { type: 'string', default: 'leakage-bench' },
    out: { type: 'string', default: 'bench/results/challenge-leakage.json' },
    'tae-models': { type: 'string' },
    'real-pool': { type: 'string' },
    'generated-n': { type: 'string', default: '300' },
    'video-n': { type: 'string', default: '0' },
    'real-clips': { type: 'string' },
  },
});
const n = Number(args.n);
const log = (s: string) => process.stderr.write(`${s}\n`);

async function metadataOf(bytes: Buffer): Promise<ChallengeMetadata> {
  const m = await sharp(bytes).metadata();
  const quality = jpegQuality(bytes);
  return {
    width: m.width!,
    height: m.height!,
    bytes: bytes.length,
    format: m.format ?? 'unknown',
    ...(quality === undefined ? {} : { quality }),
  };
}

function summarise(rows: Array<{ meta: ChallengeMetadata; ai: number }>) {
  const X = rows.map((r) => features(r.meta));
  const y = rows.map((r) => r.ai);
  const per = featureAucs(X, y);
  const worst = Object.entries(per).sort((a, b) => b[1] - a[1])[0]!;
  return {
    n: rows.length,
    ai_share: Math.round((y.reduce((a, b) => a + b, 0) / y.length) * 1000) / 1000,
    logistic_regression_cv_auc: Math.round(crossValidatedAuc(X, y) * 10_000) / 10_000,
    most_informative_single_field: { field: worst[0], auc: Math.round(worst[1] * 10_000) / 10_000 },
    single_field_auc: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, Math.round(v * 10_000) / 10_000])),
  };
}

const dataset = ChallengeDataset.load(resolve(args.dataset));
const factory = new ChallengeFactory(dataset, {
  ...DEFAULT_CHALLENGE_CONFIG,
  modalityMix: { image: 1, video: 0 },
  seed: args.seed,
});
log(`drawing ${n} image challenges ...`);
const served: Array<{ meta: ChallengeMetadata; ai: number }> = [];
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const c = await factory.next();
  served.push({ meta: await metadataOf(c.media[0]!), ai: c.label === 'real' ? 0 : 1 });
  if ((i + 1) % 500 === 0) log(`  ${i + 1}`);
}
const seconds = (performance.now() - t0) / 1000;

log('the dataset files as they are ...');
const raw: Array<{ meta: ChallengeMetadata; ai: number }> = [];
for (const row of dataset.rows.filter((r) => r.modality === 'image')) {
  try {
    raw.push({ meta: await metadataOf(readFileSync(dataset.path(row))), ai: row.label === 'real' ? 0 : 1 });
  } catch {
    // unreadable files are the factory's quarantine's business, not this figure's
  }
}

let generated: ReturnType<typeof summarise> | null = null;
let video: Record<string, unknown> | null = null;
if (args['tae-models'] && Number(args['generated-n']) > 0) {
  const gn = Number(args['generated-n']);
  log(`drawing ${gn} generated image challenges ...`);
  const runner = new TaeRunner(loadTaeModels(args['tae-models']));
  const pool = args['real-pool'] ? await folderPool(args['real-pool']) : datasetPool(dataset);
  const { labelMix } = DEFAULT_CHALLENGE_CONFIG;
  const source = new GeneratedSource(pool, runner, { seed: args.seed, ahead: 1, demand: labelMix });
  const rng = new Rng(`${args.seed}-generated`);
  const rows: Array<{ meta: ChallengeMetadata; ai: number }> = [];
  for (let i = 0; i < gn; i++) {
    const r = rng.fork(i);
    const label = r.weighted(labelMix);
    let g;
    // A pool photo too small or unreadable is dropped from the pool; the draw moves on, as the background loop does.
    for (let attempt = 0; !g; attempt++) {
      try {
        g = await source.make(label, r);
      } catch (e) {
        if (attempt >= 20) throw e;
      }
    }
    const item = {
      key: `g-${i}`,
      label: g.label,
      modality: 'image' as const,
      frames: [g.frame],
      source: g.source,
      variants: 0,
      rng: r.fork('variants'),
      origin: 'generated' as const,
    };
    const c = await factory.variant(item);
    rows.push({ meta: await metadataOf(c.media[0]!), ai: c.label === 'real' ? 0 : 1 });
    if ((i + 1) % 50 === 0) log(`  ${i + 1}`);
  }
  await runner.close();
  generated = summarise(rows);
}
if (args['tae-models'] && Number(args['video-n']) > 0) {
  const vn = Number(args['video-n']);
  log(`making ${vn} generated clips ...`);
  // At the validator's priority (nice 0), so the seconds are the model's, not the scheduler's.
  const runner = new TaeRunner(loadTaeModels(args['tae-models']), 1, 0);
  const pool = args['real-clips'] ? await folderClipPool(args['real-clips']) : datasetClipPool(dataset);
  const { labelMix, videoFrames } = DEFAULT_CHALLENGE_CONFIG;
  const source = new GeneratedVideoSource(pool, runner, { seed: args.seed, ahead: 1, demand: labelMix, frames: videoFrames });
  const rng = new Rng(`${args.seed}-video`);
  const rows: Array<{ meta: ChallengeMetadata; ai: number }> = [];
  const t1 = performance.now();
  for (let i = 0; i < vn; i++) {
    const r = rng.fork(i);
    const label = r.weighted(labelMix);
    let g;
    for (let attempt = 0; !g; attempt++) {
      try {
        g = await source.make(label, r);
      } catch (e) {
        if (attempt >= 20) throw e;
      }
    }
    const c = await factory.variant({
      key: `v-${i}`,
      label: g.label,
      modality: 'video',
      frames: g.frames,
      source: g.source,
      variants: 0,
      rng: r.fork('variants'),
      origin: 'generated',
    });
    const first = await metadataOf(c.media[0]!);
    const meanBytes = c.media.reduce((a, m) => a + m.length, 0) / c.media.length;
    rows.push({ meta: { ...first, bytes: Math.round(meanBytes) }, ai: c.label === 'real' ? 0 : 1 });
    if ((i + 1) % 10 === 0) log(`  ${i + 1}`);
  }
  const wall = (performance.now() - t1) / 1000;
  const st = source.status();
  await runner.close();
  video = {
    ...summarise(rows),
    pool: st.pool,
    failures: st.failures,
    clips_per_family: st.made,
    seconds_per_clip: Object.fromEntries(
      Object.entries(st.seconds).map(([k, v]) => [k, Math.round((v / st.made[k]!) * 100) / 100]),
    ),
    model_seconds_per_frame: Object.fromEntries(
      Object.entries(runner.runSeconds).map(([k, v]) => [k, Math.round((v.seconds / v.n) * 1000) / 1000]),
    ),
    wall_seconds: Math.round(wall),
  };
}

const report = {
  benchmark: 'challenge-metadata-leakage',
  command: `npx tsx bench/challenge-leakage.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  target: 'served.logistic_regression_cv_auc <= 0.55',
  served: { ...summarise(served), challenges_per_second: Math.round((n / seconds) * 10) / 10 },
  dataset_files_as_is: summarise(raw),
  ...(generated ? { generated_only: generated } : {}),
  ...(video ? { generated_video: video } : {}),
  note: 'real vs AI (synthetic + semisynthetic); 5-fold out-of-fold AUC; single-field AUCs folded to >= 0.5',
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
if (generated && generated.logistic_regression_cv_auc > 0.55) {
  log(`FAIL: generated items' metadata AUC ${generated.logistic_regression_cv_auc} > 0.55`);
  process.exitCode = 1;
}
if (video && (video.logistic_regression_cv_auc as number) > 0.55) {
  log(`FAIL: generated clips' metadata AUC ${String(video.logistic_regression_cv_auc)} > 0.55`);
  process.exitCode = 1;
}
if (report.served.logistic_regression_cv_auc > 0.55) {
  log(`FAIL: metadata AUC ${report.served.logistic_regression_cv_auc} > 0.55`);
  process.exitCode = 1;
}
