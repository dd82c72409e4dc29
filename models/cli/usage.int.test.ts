// Integration: the models CLIs (veracity-eval, veracity-dataset) as users run them, answering a missing or bad input
// with one line that names the problem and its fix, exit code 2 and no stack trace (issue 27).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUsage, run } from './cli-test-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const EVAL = join(ROOT, 'models/bin/veracity-eval.mjs');
const DATASET = join(ROOT, 'models/bin/veracity-dataset.mjs');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'veracity-usage-'));
  writeFileSync(join(work, 'no-columns.csv'), 'file,kind\na.jpg,real\n');
  writeFileSync(join(work, 'manifest.csv'), `path,label,modality,group,sha256\na.jpg,real,image,g,${'0'.repeat(64)}\n`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('veracity-eval answers bad input in one line with a fix', () => {
  it.each([
    [['--manifest', '/nonexistent.csv'], /cannot read --manifest \/nonexistent\.csv: no such file/],
    [[], /--manifest is required/],
    [['--manifest'], /--manifest needs a value/],
    [['--bogus'], /unknown option --bogus/],
    [['stray'], /unexpected argument "stray"/],
    [['--manifest', 'M', '--limit', 'ten'], /--limit must be a whole number >= 1 \(got "ten"\)/],
    [['--manifest', 'NOCOLS'], /lacks the column\(s\) path, label/],
    [['--manifest', 'M', '--bundle', '/no/bundle'], /no model bundle at \/no\/bundle/],
    [['--manifest', 'M', '--root', '/no/root'], /--root \/no\/root is not a folder/],
  ])('%j', async (args, problem) => {
    const real = args.map((a) => (a === 'M' ? join(work, 'manifest.csv') : a === 'NOCOLS' ? join(work, 'no-columns.csv') : a));
    expectUsage(await run(EVAL, real), 'veracity-eval', problem);
  });

  it('--help describes every flag', async () => {
    const r = await run(EVAL, ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['manifest', 'root', 'bundle', 'json', 'limit', 'threads', 'frames', 'no-video'])
      expect(r.stdout).toMatch(new RegExp(`^  --${flag} +\\S`, 'm'));
  });
});

describe('veracity-dataset answers bad input in one line with a fix, keeping its stable codes', () => {
  it.each([
    [[], /E_USAGE: no input given/],
    [['--bogus'], /E_USAGE: unknown option --bogus/],
    [['--sources', '/nope.csv', '--out', 'OUT'], /E_SOURCES_INVALID: cannot read \/nope\.csv: no such file/],
    [['--from-manifest', 'W', '--out', 'OUT', '--check'], /E_USAGE: --out and --check exclude each other/],
    [['--from-manifest', 'W', '--check', '--limit', '0'], /E_USAGE: --limit must be an integer >= 1/],
    [['--sources', 'NOCOLS', '--out', 'OUT'], /E_SOURCES_INVALID: .*lacks the column/],
  ])('%j', async (args, problem) => {
    const real = args.map((a) =>
      a === 'W' ? work : a === 'OUT' ? join(work, 'out') : a === 'NOCOLS' ? join(work, 'no-columns.csv') : a,
    );
    expectUsage(await run(DATASET, real), 'veracity-dataset', problem);
  });
});
