/**
 * veracity-eval: runs any labelled set through the same runtime the browser uses and prints, overall and per group,
 * AUC, accuracy, MCC, Brier, cross-entropy and sn34 (binary: synthetic and semisynthetic count as AI), plus latency,
 * and the real photos flagged / AI caught at 0.5 and at the bundle's operating point (calibration.threshold).
 *
 *   veracity-eval --manifest PATH/manifest.csv [--root DIR] [--bundle DIR|URL] [--json OUT] [--limit N] [--threads N]
 *
 * Video rows are scored apart (a `videos` section): the bundle's frame count per clip, cut with ffmpeg the way the
 * validator cuts challenge frames, aggregated by the bundle's rule as the extension and the miner do.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { evaluationReport, formatReport, groupedReport, type Scored } from '../src/eval/evaluate.js';
import {
  type DatasetRow,
  decodeClipNode,
  decodeImageNode,
  isAi,
  loadNodeDetector,
  messageOf,
  parseDatasetManifest,
  type RawImage,
} from '../src/node/index.js';
import { bundleFlag } from './paths.js';
import { intFlag, parseCli, runCli, UsageError } from './usage.js';

const HELP = `usage: veracity-eval --manifest FILE [--root DIR] [--bundle DIR|URL] [--json OUT] [--limit N] [--threads N]
                     [--frames N] [--no-video]
  --manifest  CSV with columns path,label[,modality,group] (others ignored; modality defaults from the
              file extension, group to "ungrouped")
  --root      folder relative paths are read from (default: the manifest's folder); absolute paths are taken as is
  --bundle    model bundle folder or URL (default: models/bundle, else the test fixture)
  --json      also write the report as JSON to this file
  --limit     at most N images (and N videos) per group (first N in manifest order), for quick runs
  --threads   onnxruntime threads (default: auto)
  --frames    frames per video clip (default: the bundle's video.frames); clips need ffmpeg and ffprobe
              (or VERACITY_FFMPEG / VERACITY_FFPROBE)
  --no-video  skip video rows
Images in any format sharp reads (JPEG, PNG, WebP, GIF, AVIF, TIFF, SVG) or ffmpeg does (BMP, ICO, TGA, PPM,
JPEG 2000, ...) at any size up to 16384x16384; files neither reads are listed as unreadable and the run goes on.`;

const PROGRAM = 'veracity-eval';

/** An fs error in a few words ("no such file") rather than Node's "ENOENT: no such file or directory, open '…'". */
const fsReason = (e: unknown) =>
  ({ ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a folder' })[(e as NodeJS.ErrnoException).code ?? ''] ??
  messageOf(e);

async function main(): Promise<void> {
  const args = parseCli(PROGRAM, process.argv.slice(2), {
    manifest: { type: 'string' },
    root: { type: 'string' },
    bundle: { type: 'string' },
    json: { type: 'string' },
    limit: { type: 'string' },
    threads: { type: 'string' },
    frames: { type: 'string' },
    'no-video': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (args.help) {
    console.log(HELP);
    return;
  }
  if (!args.manifest)
    throw new UsageError(
      '--manifest is required',
      'pass --manifest DIR/manifest.csv (a labelled set; npm run dataset builds one)',
    );
  const limitArg = intFlag('limit', args.limit, 1);
  const threads = intFlag('threads', args.threads, 1, 256);
  const framesArg = intFlag('frames', args.frames, 1, 64);
  const manifestPath = resolve(args.manifest);
  const root = resolve(args.root ?? dirname(manifestPath));
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read --manifest ${manifestPath}: ${fsReason(e)}`,
      "pass the path of a labelled set's manifest.csv (npm run dataset builds one)",
    );
  }
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new UsageError(`--root ${root} is not a folder`, "pass the folder the manifest's relative paths start from");
  let parsed: ReturnType<typeof parseDatasetManifest>;
  try {
    parsed = parseDatasetManifest(text, { absolutePaths: true });
  } catch (e) {
    throw new UsageError(
      `${manifestPath}: ${messageOf(e).replace(/^E_\w+: /, '')}`,
      'its first line must name the columns: path,label[,modality,group]',
    );
  }
  const { rows, rejected } = parsed;
  for (const r of rejected) process.stderr.write(`skipping manifest line ${r.line}: ${r.reason}\n`);
  if (rows.length === 0)
    throw new UsageError(
      `${manifestPath} has no usable rows (${rejected.length} skipped)`,
      'give it a header with at least path,label and one row per file (label real, synthetic or semisynthetic)',
    );
  const limit = limitArg ?? Number.POSITIVE_INFINITY;
  const firstPerGroup = (modality: DatasetRow['modality']) => {
    const perGroup = new Map<string, number>();
    return rows.filter((r) => {
      if (r.modality !== modality) return false;
      const n = perGroup.get(r.group) ?? 0;
      perGroup.set(r.group, n + 1);
      return n < limit;
    });
  };
  const images = firstPerGroup('image');
  const videos = args['no-video'] ? [] : firstPerGroup('video');
  const skippedVideos = args['no-video'] ? rows.filter((r) => r.modality === 'video').length : 0;

  const bundle = bundleFlag(args.bundle);
  const detector = await loadNodeDetector(bundle, {
    ...(threads ? { threads } : {}),
    onProgress: (p) => p.stage === 'ready' && process.stderr.write(`bundle ${bundle} ready on ${p.backend}\n`),
  });
  const frames = framesArg ?? detector.manifest.video.frames;
  process.stderr.write(
    `evaluating ${images.length} images${videos.length ? ` and ${videos.length} videos (${frames} frames each)` : ''} from ${manifestPath}${skippedVideos ? ` (${skippedVideos} videos skipped: --no-video)` : ''} with ${detector.manifest.id} ${detector.manifest.version}\n`,
  );

  /** A progress line after item i of `total`: every item on a terminal, every `every` items in logs. */
  function progress(i: number, total: number, started: number, every: number, unit: string, digits: number): void {
    if (!process.stderr.isTTY && i % every !== every - 1 && i !== total - 1) return;
    const rate = (i + 1) / ((Date.now() - started) / 1000);
    process.stderr.write(`\r[${i + 1}/${total}] ${rate.toFixed(digits)} ${unit}/s${process.stderr.isTTY ? '' : '\n'}`);
  }

  /** A line about one item: on a terminal it first ends the progress line it interrupts; logs get no blank lines. */
  function note(line: string): void {
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${line}\n`);
  }

  const scored: Scored[] = [];
  const latencies: number[] = [];
  const unreadable: string[] = [];
  const started = Date.now();
  // Decoding (libvips threads) overlaps with inference: keep a few decodes in flight ahead of the model.
  const AHEAD = 4;
  const decode = (row: DatasetRow) =>
    decodeImageNode(resolve(root, row.path)).then(
      (img): RawImage | Error => img,
      (e: unknown) => new Error(messageOf(e)),
    );
  const pending = images.slice(0, AHEAD).map(decode);
  for (let i = 0; i < images.length; i++) {
    const row = images[i] as DatasetRow;
    if (i + AHEAD < images.length) pending.push(decode(images[i + AHEAD] as DatasetRow));
    const img = await (pending.shift() as Promise<RawImage | Error>);
    if (img instanceof Error) {
      unreadable.push(row.path);
      note(`unreadable: ${row.path}: ${img.message}`);
      continue;
    }
    try {
      const result = await detector.classifyImage(img);
      scored.push({ group: row.group, y: isAi(row.label), p: result.ai });
      latencies.push(result.ms);
    } catch (e) {
      unreadable.push(row.path);
      note(`failed: ${row.path}: ${messageOf(e)}`);
    }
    progress(i, images.length, started, 100, 'img', 1);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');

  // Clips one at a time: ffmpeg decodes each frame on its own threads, and the frames go through the session as one batch.
  const clipScores: Scored[] = [];
  const clipLatencies: number[] = [];
  const clipsStarted = Date.now();
  for (const [i, row] of videos.entries()) {
    try {
      const clip = await decodeClipNode(resolve(root, row.path), frames);
      const started = performance.now();
      const result = await detector.classifyFrames(clip);
      clipScores.push({ group: row.group, y: isAi(row.label), p: result.ai });
      clipLatencies.push(performance.now() - started);
    } catch (e) {
      unreadable.push(row.path);
      note(`unreadable video: ${row.path}: ${messageOf(e)}`);
    }
    progress(i, videos.length, clipsStarted, 20, 'clips', 2);
  }
  if (videos.length && process.stderr.isTTY) process.stderr.write('\n');
  await detector.dispose();

  // The bundle's own verdict threshold, reported beside 0.5: what a user of this bundle would see flagged.
  const point = detector.manifest.calibration.threshold;
  const report = evaluationReport(
    scored,
    latencies,
    unreadable,
    videos.length ? { ...groupedReport(clipScores, clipLatencies, point), frames } : undefined,
    point,
  );
  console.log(formatReport(report));
  if (args.json) {
    const out = resolve(args.json);
    mkdirSync(dirname(out), { recursive: true });
    const json = { bundle: { id: detector.manifest.id, version: detector.manifest.version }, manifest: manifestPath, ...report };
    // NaN (an AUC of a one-class group) is not JSON: write null.
    writeFileSync(out, `${JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    process.stderr.write(`wrote ${out}\n`);
  }
}

await runCli(PROGRAM, main);
