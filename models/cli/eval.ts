/**
 * veracity-eval: runs any labelled set through the same runtime the browser uses and prints, overall and per group,
 * AUC, accuracy, MCC, Brier, cross-entropy and sn34 (binary: synthetic and semisynthetic count as AI), plus latency.
 *
 *   veracity-eval --manifest PATH/manifest.csv [--root DIR] [--bundle DIR|URL] [--json OUT] [--limit N] [--threads N]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluationReport, formatReport, type Scored } from '../src/evaluate.js';
import {
  type DatasetRow,
  decodeImageNode,
  isAi,
  loadNodeDetector,
  messageOf,
  parseDatasetManifest,
  type RawImage,
} from '../src/node.js';
import { defaultBundleDir } from './paths.js';

const HELP = `usage: veracity-eval --manifest FILE [--root DIR] [--bundle DIR|URL] [--json OUT] [--limit N] [--threads N]
  --manifest  CSV with columns path,label[,modality,group] (others ignored; modality defaults from the
              file extension, group to "ungrouped"); images only
  --root      folder the paths are relative to (default: the manifest's folder)
  --bundle    model bundle folder or URL (default: models/bundle, else the test fixture)
  --json      also write the report as JSON to this file
  --limit     at most N images per group (first N in manifest order), for quick runs
  --threads   onnxruntime threads (default: auto)`;

const { values: args } = parseArgs({
  options: {
    manifest: { type: 'string' },
    root: { type: 'string' },
    bundle: { type: 'string' },
    json: { type: 'string' },
    limit: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help || !args.manifest) {
  console.log(HELP);
  process.exit(args.help ? 0 : 2);
}

const manifestPath = resolve(args.manifest);
const root = resolve(args.root ?? dirname(manifestPath));
const { rows, rejected } = parseDatasetManifest(readFileSync(manifestPath, 'utf8'));
for (const r of rejected) process.stderr.write(`skipping manifest line ${r.line}: ${r.reason}\n`);
const limit = args.limit ? Number(args.limit) : Number.POSITIVE_INFINITY;
const perGroup = new Map<string, number>();
const images = rows.filter((r) => {
  if (r.modality !== 'image') return false;
  const n = perGroup.get(r.group) ?? 0;
  perGroup.set(r.group, n + 1);
  return n < limit;
});
const videos = rows.filter((r) => r.modality === 'video').length;

const bundle = args.bundle ?? defaultBundleDir();
const detector = await loadNodeDetector(bundle, {
  ...(args.threads ? { threads: Number(args.threads) } : {}),
  onProgress: (p) => p.stage === 'ready' && process.stderr.write(`bundle ${bundle} ready on ${p.backend}\n`),
});
process.stderr.write(
  `evaluating ${images.length} images from ${manifestPath}${videos ? ` (${videos} videos not scored by this tool)` : ''} with ${detector.manifest.id} ${detector.manifest.version}\n`,
);

const scored: Scored[] = [];
const latencies: number[] = [];
const unreadable: string[] = [];
const started = Date.now();
// Decoding (libvips threads) overlaps with inference: keep a few decodes in flight ahead of the model.
const AHEAD = 4;
const decode = (row: DatasetRow) =>
  decodeImageNode(join(root, row.path)).then(
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
    process.stderr.write(`\nunreadable: ${row.path}: ${img.message}\n`);
    continue;
  }
  try {
    const result = await detector.classifyImage(img);
    scored.push({ group: row.group, y: isAi(row.label), p: result.ai });
    latencies.push(result.ms);
  } catch (e) {
    unreadable.push(row.path);
    process.stderr.write(`\nfailed: ${row.path}: ${messageOf(e)}\n`);
  }
  if (process.stderr.isTTY || i % 100 === 99 || i === images.length - 1) {
    const rate = (i + 1) / ((Date.now() - started) / 1000);
    process.stderr.write(`\r[${i + 1}/${images.length}] ${rate.toFixed(1)} img/s${process.stderr.isTTY ? '' : '\n'}`);
  }
}
process.stderr.write('\n');
await detector.dispose();

const report = evaluationReport(scored, latencies, unreadable);
console.log(formatReport(report));
if (args.json) {
  const out = resolve(args.json);
  mkdirSync(dirname(out), { recursive: true });
  const json = { bundle: { id: detector.manifest.id, version: detector.manifest.version }, manifest: manifestPath, ...report };
  // NaN (an AUC of a one-class group) is not JSON: write null.
  writeFileSync(out, `${JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  process.stderr.write(`wrote ${out}\n`);
}
