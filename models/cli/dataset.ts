/**
 * veracity-dataset: assembles a local labelled set (a folder with manifest.csv, what the validator and veracity-eval
 * read) from a sources file of URLs with SHA-256 sums, or from a local mirror such as ../shared/datasets. Resumable:
 * verified files are skipped, partial downloads continue with HTTP Range. Summary JSON on stdout, progress on stderr.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { assembleDataset, checkDataset, type DatasetEvent, type DatasetFailure } from '../src/dataset/download.js';
import { DEFAULT_RETRY, formatDuration, formatProgress, parseSources, selectRows, sourceKind } from '../src/dataset/sources.js';
import { ErrorCode, isVeracityError, messageOf } from '../src/core/errors.js';
import { EXIT_USAGE, parseCli, UsageError, usageLine } from './usage.js';

const HELP = `usage: veracity-dataset --sources FILE --out DIR [options]
       veracity-dataset --from-manifest DIR --out DIR [options]
       veracity-dataset --from-manifest DIR --check [--only-groups a,b] [--limit N]
  --sources        CSV: path,label,modality,group,source_repo,generator,license,sha256,notes plus url
                   (path, label, modality, group, sha256 and url required); url is http(s) or a path in the mirror
  --from-manifest  use DIR/manifest.csv as the sources and DIR as the mirror (url = path when there is no url column)
  --out            output folder: files at their path, plus manifest.csv listing the verified rows
  --mirror         folder that non-http urls are relative to (default: the sources file's folder)
  --only-groups    comma-separated groups to take (default: all)
  --limit          at most N files per group, first in file order (default: all)
  --concurrency    files in flight at once (default 4)
  --retries        retries per file on transport errors, timeouts and 408/429/5xx (default ${DEFAULT_RETRY.retries})
  --retry-base-ms  first retry wait; doubles each time, with jitter, capped by --retry-max-ms (default ${DEFAULT_RETRY.baseMs})
  --retry-max-ms   longest wait between retries (default ${DEFAULT_RETRY.maxMs})
  --timeout-ms     abort an attempt after this long without response headers or body bytes (default 30000)
  --check          verify the mirror's files against their sha256 in place; writes nothing (no --out)
  --copy           always copy from the mirror (default: hard-link when on the same filesystem, else copy)
  --progress-ms    interval of progress lines when stderr is not a terminal (default 5000)
exit status: 0 all verified, 1 some files failed (the manifest lists the others), 2 bad usage or sources file,
             or the output folder cannot be written`;

const PROGRAM = 'veracity-dataset';

/** One line with the stable code, the problem and its fix; exit 2 (bad usage, sources file or output folder). */
function fail(code: string, message: string, fix: string): never {
  process.stderr.write(`${usageLine(PROGRAM, new UsageError(`${code}: ${message}`, fix))}\n`);
  process.exit(EXIT_USAGE);
}

function count(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    fail('E_USAGE', `--${name} must be an integer >= ${min}, got "${value}"`, `pass e.g. --${name} ${Math.max(min, 1)}`);
  return n;
}

let args;
try {
  args = parseCli(PROGRAM, process.argv.slice(2), {
    sources: { type: 'string' },
    'from-manifest': { type: 'string' },
    out: { type: 'string' },
    mirror: { type: 'string' },
    'only-groups': { type: 'string' },
    limit: { type: 'string' },
    concurrency: { type: 'string' },
    retries: { type: 'string' },
    'retry-base-ms': { type: 'string' },
    'retry-max-ms': { type: 'string' },
    'timeout-ms': { type: 'string' },
    copy: { type: 'boolean' },
    check: { type: 'boolean' },
    'progress-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  fail('E_USAGE', e.problem, e.fix);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
if (!args.sources === !args['from-manifest'])
  fail(
    'E_USAGE',
    args.sources ? '--sources and --from-manifest are two ways to name the input: give one' : 'no input given',
    'pass --sources FILE (a CSV with url and sha256 columns) or --from-manifest DIR (a folder with manifest.csv)',
  );
if (!args.out === !args.check)
  fail(
    'E_USAGE',
    args.out ? '--out and --check exclude each other' : 'no output folder given',
    'pass --out DIR to assemble a set there, or --check to verify the files in place',
  );

const fromManifest = args['from-manifest'] ? resolve(args['from-manifest']) : undefined;
const sourcesFile = fromManifest ? resolve(fromManifest, 'manifest.csv') : resolve(args.sources!);
const mirror = resolve(args.mirror ?? fromManifest ?? dirname(sourcesFile));

if (args.out && resolve(args.out) === mirror)
  fail(
    'E_USAGE',
    `--out is the mirror folder itself (${mirror}); choose another --out`,
    'use --check to verify a folder in place',
  );

let text: string;
try {
  text = readFileSync(sourcesFile, 'utf8');
} catch (e) {
  fail(
    ErrorCode.SourcesInvalid,
    `cannot read ${sourcesFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : messageOf(e)}`,
    fromManifest ? 'pass --from-manifest a folder that has a manifest.csv' : 'pass --sources the path of your sources CSV',
  );
}
let sources;
try {
  sources = parseSources(text, { urlFromPath: fromManifest !== undefined });
} catch (e) {
  fail(
    isVeracityError(e) ? e.code : ErrorCode.SourcesInvalid,
    `${sourcesFile}: ${messageOf(e).replace(/^E_\w+: /, '')}`,
    'its columns are path,label,modality,group,source_repo,generator,license,sha256,notes plus url (see --help)',
  );
}
const onlyGroups = args['only-groups']
  ?.split(',')
  .map((g) => g.trim())
  .filter(Boolean);
const known = new Set(sources.rows.map((r) => r.group));
const unknown = onlyGroups?.filter((g) => !known.has(g)) ?? [];
// A typo in a group name would otherwise "succeed" with an empty set.
if (unknown.length > 0)
  fail('E_USAGE', `no group ${unknown.join(', ')} in ${sourcesFile}`, `--only-groups takes some of: ${[...known].join(', ')}`);
const rows = selectRows(sources.rows, {
  onlyGroups,
  limit: args.limit === undefined ? undefined : count('limit', args.limit, 0, 1),
});
const rejected: DatasetFailure[] = sources.rejected.map((r) => ({
  path: r.path,
  code: ErrorCode.SourcesInvalid,
  detail: `line ${r.line}: ${r.reason}`,
}));
for (const r of rejected) process.stderr.write(`${r.code} ${r.path || '(no path)'}: ${r.detail}\n`);

const tty = process.stderr.isTTY === true;
const progressMs = count('progress-ms', args['progress-ms'], 5000, 1);
let lastLine = '';
let printedLine = '';
let lastPrinted = 0;
let onLine = false;
function render(line: string, force: boolean) {
  lastLine = line;
  const now = Date.now();
  // A terminal gets one line rewritten in place (at most 10 times a second); a log gets a line every progressMs.
  if (line === printedLine || (!force && now - lastPrinted < (tty ? 100 : progressMs))) return;
  lastPrinted = now;
  printedLine = line;
  if (tty) {
    process.stderr.write(`\r${line}\x1b[K`);
    onLine = true;
  } else process.stderr.write(`${line}\n`);
}
function say(message: string) {
  if (onLine) process.stderr.write('\r\x1b[K');
  process.stderr.write(`${message}\n`);
  if (onLine) process.stderr.write(`${lastLine}\x1b[K`);
}

process.stderr.write(
  args.check
    ? `checking ${rows.length} file(s) of ${sourcesFile} in ${mirror}\n`
    : `assembling ${rows.length} file(s) from ${sourcesFile} into ${resolve(args.out!)}${rows.some((r) => sourceKind(r.url) === 'mirror') ? ` (mirror ${mirror})` : ''}\n`,
);
const onEvent = (event: DatasetEvent) => {
  if (event.type === 'progress') render(formatProgress(event.snapshot), false);
  else if (event.type === 'resume') say(`resuming ${event.path} at byte ${event.offset}`);
  else if (event.type === 'retry')
    say(`retry ${event.attempt} of ${event.path} in ${formatDuration(event.delayMs)} (${event.delayMs} ms): ${event.detail}`);
  else if (event.type === 'restart') say(`restarting ${event.path}: ${event.detail}`);
  else say(`${event.failure.code} ${event.failure.path}: ${event.failure.detail}`);
};
process.on('SIGINT', () => {
  say('interrupted: run the same command again to resume (.part files are kept)');
  process.exit(130);
});

try {
  const concurrency = count('concurrency', args.concurrency, 4, 1);
  const summary = args.check
    ? await checkDataset({ rows, folder: mirror, concurrency, onEvent })
    : await assembleDataset({
        rows,
        columns: sources.columns,
        out: args.out!,
        mirror,
        concurrency,
        retry: {
          retries: count('retries', args.retries, DEFAULT_RETRY.retries),
          baseMs: count('retry-base-ms', args['retry-base-ms'], DEFAULT_RETRY.baseMs),
          maxMs: count('retry-max-ms', args['retry-max-ms'], DEFAULT_RETRY.maxMs),
        },
        timeoutMs: count('timeout-ms', args['timeout-ms'], 30_000, 1),
        link: !args.copy,
        onEvent,
      });
  render(formatProgress({ ...summary, total: rows.length, failed: summary.failed.length, elapsedMs: summary.ms }), true);
  if (tty) process.stderr.write('\n');
  const failed = [...rejected, ...summary.failed];
  process.stdout.write(`${JSON.stringify({ ...summary, failed })}\n`);
  process.exitCode = failed.length > 0 ? 1 : 0;
} catch (e) {
  if (tty && onLine) process.stderr.write('\n');
  fail(
    isVeracityError(e) ? e.code : ErrorCode.Write,
    messageOf(e).replace(/^E_\w+: /, ''),
    'check that the --out folder can be written (space, permissions), then run the same command again to resume',
  );
}
