/**
 * veracity-dataset end to end: the real CLI (child process) against a real HTTP server on loopback that serves files
 * of ../shared/datasets and injects real faults (a connection cut mid-body, a 500, a stall, a corrupted body, a server
 * that ignores Range). Nothing touches the network beyond 127.0.0.1.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChallengeDataset } from '@veracity/validator/challenges';
import { LABELS } from '@veracity/protocol/domain';
import { parseDatasetManifest } from '../src/dataset/dataset.js';
import { parseSources, toCsv } from '../src/dataset/sources.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'models/bin/veracity-dataset.mjs');
const SHARED = resolve(process.env.VERACITY_DATASET ?? join(ROOT, '../shared/datasets'));
const SOURCE_COLUMNS = ['path', 'label', 'modality', 'group', 'source_repo', 'generator', 'license', 'sha256', 'notes', 'url'];

type Fault = 'cut' | 'hang-midway' | 'error-500' | 'stall' | 'corrupt' | 'ignore-range' | 'not-found';
/** Per path: which fault, and how many more requests get it (Infinity = every one). */
const faults = new Map<string, { fault: Fault; times: number }>();
const requests: Array<{ path: string; range: string | undefined; status: number }> = [];
let server: Server;
let base = '';
let work = '';

const shared = parseSources(readFileSync(join(SHARED, 'manifest.csv'), 'utf8'), { urlFromPath: true });
const firstOf = (group: string, n: number) => {
  const rows = shared.rows.filter((r) => r.group === group).slice(0, n);
  if (rows.length < n) throw new Error(`${SHARED}/manifest.csv has fewer than ${n} rows in group ${group}`);
  return rows;
};
const IMAGES = [...firstOf('faces-ffhq', 2), ...firstOf('faces-stylegan', 1)];
/** A few hundred kB: big enough that a cut leaves a real partial file. */
const VIDEO = firstOf('video-cogvideox', 1)[0]!;

function serve(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/files\//, ''));
  const range = req.headers.range;
  const entry = faults.get(path);
  const fault = entry && entry.times > 0 ? entry.fault : undefined;
  if (entry && fault) entry.times--;
  const answer = (status: number) => requests.push({ path, range, status });
  const file = join(SHARED, path);
  if (fault === 'not-found' || !file.startsWith(SHARED + '/') || !existsSync(file)) {
    answer(404);
    res.writeHead(404).end('not found');
    return;
  }
  if (fault === 'error-500') {
    answer(500);
    res.writeHead(500).end('boom');
    return;
  }
  let body = readFileSync(file);
  if (fault === 'corrupt') {
    body = Buffer.from(body);
    const mid = body.length >> 1;
    body[mid] = body[mid]! ^ 0xff;
  }
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(range ?? '');
  if (m && fault !== 'ignore-range') {
    start = Number(m[1]);
    if (start >= body.length) {
      answer(416);
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
  }
  const status = start > 0 ? 206 : 200;
  answer(status);
  const slice = body.subarray(start);
  res.writeHead(status, {
    'content-type': 'application/octet-stream',
    'content-length': slice.length,
    'accept-ranges': fault === 'ignore-range' ? 'none' : 'bytes',
    ...(status === 206 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  });
  if (fault === 'cut') {
    // A real fault: half the promised body reaches the client, then the socket is torn down.
    res.write(slice.subarray(0, slice.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
  } else if (fault === 'hang-midway') {
    res.write(slice.subarray(0, slice.length >> 1)); // then nothing, until the client is interrupted
  } else if (fault === 'stall') {
    res.flushHeaders(); // headers, then silence: only the client's timeout can end this
  } else res.end(slice);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  summary: {
    ok: number;
    skipped: number;
    failed: Array<{ path: string; code: string; detail: string }>;
    bytes: number;
    ms: number;
  };
}

function runCli(args: string[], started?: (child: ChildProcess) => void): Promise<Run> {
  return new Promise((done) => {
    // Async on purpose: the server under test lives in this process and must keep answering.
    const child = execFile(
      process.execPath,
      [BIN, '--retry-base-ms', '20', '--retry-max-ms', '200', ...args],
      { cwd: ROOT },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        let summary = undefined as unknown as Run['summary'];
        try {
          summary = JSON.parse(stdout.trim().split('\n').pop() ?? '');
        } catch {
          // exit 2 prints no summary; callers that expect one fail on it
        }
        done({ code, stdout, stderr, summary });
      },
    );
    started?.(child);
  });
}

function writeSources(name: string, rows: Array<Record<string, string>>): string {
  const file = join(work, `${name}.csv`);
  writeFileSync(file, toCsv(SOURCE_COLUMNS, rows));
  return file;
}
const viaHttp = (row: (typeof IMAGES)[number]) => ({ ...row, url: `${base}/files/${row.path}` });
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifestPaths = (dir: string) =>
  parseDatasetManifest(readFileSync(join(dir, 'manifest.csv'), 'utf8')).rows.map((r) => r.path);
const requestsFor = (path: string) => requests.filter((r) => r.path === path);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'veracity-dataset-'));
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(work, { recursive: true, force: true });
});

describe('veracity-dataset over HTTP', () => {
  it('downloads every file, verifies it, writes a manifest the validator loads, and skips it all on a rerun', async () => {
    const out = join(work, 'full');
    const sources = writeSources('full', [...IMAGES, VIDEO].map(viaHttp));
    const first = await runCli(['--sources', sources, '--out', out, '--concurrency', '2']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary).toMatchObject({ ok: 4, skipped: 0, failed: [] });
    const total = [...IMAGES, VIDEO].reduce((n, r) => n + statSync(join(SHARED, r.path)).size, 0);
    expect(first.summary.bytes).toBe(total);
    for (const row of [...IMAGES, VIDEO]) expect(sha256(join(out, row.path))).toBe(row.sha256);
    expect(first.stderr).toMatch(/4\/4 files \| .* at .*\/s \| done/);

    const manifest = parseDatasetManifest(readFileSync(join(out, 'manifest.csv'), 'utf8'));
    expect(manifest.rejected).toEqual([]);
    expect(manifest.rows.map((r) => r.path)).toEqual([...IMAGES, VIDEO].map((r) => r.path));
    expect(Object.keys(manifest.rows[0]!)).not.toContain('url');
    expect(manifest.rows[0]).toMatchObject({ license: IMAGES[0]!.license, source_repo: IMAGES[0]!.source_repo });
    const set = ChallengeDataset.load(out);
    expect(set.count('real', 'image')).toBe(2);
    expect(set.count('synthetic', 'image')).toBe(1);
    expect(set.count('synthetic', 'video')).toBe(1);

    const before = requests.length;
    const again = await runCli(['--sources', sources, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.summary).toMatchObject({ ok: 0, skipped: 4, failed: [], bytes: 0 });
    expect(requests.length).toBe(before);
  });

  it('resumes a download cut mid-body on the next run with a Range request', async () => {
    const out = join(work, 'resume');
    const sources = writeSources('resume', [viaHttp(VIDEO), viaHttp(IMAGES[0]!)]);
    const size = statSync(join(SHARED, VIDEO.path)).size;
    faults.set(VIDEO.path, { fault: 'cut', times: 1 });
    const cut = await runCli(['--sources', sources, '--out', out, '--retries', '0']);
    expect(cut.code).toBe(1);
    expect(cut.summary.ok).toBe(1);
    expect(cut.summary.failed).toEqual([
      { path: VIDEO.path, code: 'E_FETCH', detail: expect.stringMatching(/connection lost after \d+ bytes/) },
    ]);
    expect(existsSync(join(out, VIDEO.path))).toBe(false);
    const partBytes = statSync(join(out, `${VIDEO.path}.part`)).size;
    expect(partBytes).toBeGreaterThan(0);
    expect(partBytes).toBeLessThan(size);
    expect(manifestPaths(out)).toEqual([IMAGES[0]!.path]);

    const resumed = await runCli(['--sources', sources, '--out', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.summary).toMatchObject({ ok: 1, skipped: 1, failed: [], bytes: size - partBytes });
    expect(resumed.stderr).toContain(`resuming ${VIDEO.path} at byte ${partBytes}`);
    expect(requestsFor(VIDEO.path).at(-1)).toEqual({ path: VIDEO.path, range: `bytes=${partBytes}-`, status: 206 });
    expect(sha256(join(out, VIDEO.path))).toBe(VIDEO.sha256);
    expect(existsSync(join(out, `${VIDEO.path}.part`))).toBe(false);
    expect(manifestPaths(out)).toEqual([VIDEO.path, IMAGES[0]!.path]);
  });

  it('keeps the .part when the command is interrupted (Ctrl-C) and resumes it on the next run', async () => {
    const out = join(work, 'sigint');
    const sources = writeSources('sigint', [viaHttp(VIDEO)]);
    const part = join(out, `${VIDEO.path}.part`);
    faults.set(VIDEO.path, { fault: 'hang-midway', times: 1 });
    const interrupted = await runCli(['--sources', sources, '--out', out, '--timeout-ms', '60000'], (child) => {
      const poll = setInterval(() => {
        if (existsSync(part) && statSync(part).size > 0) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 50);
    });
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain('interrupted: run the same command again to resume');
    const partBytes = statSync(part).size;
    expect(partBytes).toBeGreaterThan(0);
    server.closeAllConnections(); // the response still hanging on the server side

    const resumed = await runCli(['--sources', sources, '--out', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(requestsFor(VIDEO.path).at(-1)).toEqual({ path: VIDEO.path, range: `bytes=${partBytes}-`, status: 206 });
    expect(sha256(join(out, VIDEO.path))).toBe(VIDEO.sha256);
  });

  it('continues a cut download within the same run, and starts over when the server ignores Range', async () => {
    const out = join(work, 'in-run');
    const sources = writeSources('in-run', [viaHttp(VIDEO)]);
    faults.set(VIDEO.path, { fault: 'cut', times: 1 });
    const run = await runCli(['--sources', sources, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/retry 1 of .*connection lost/);
    expect(requestsFor(VIDEO.path).at(-1)?.range).toMatch(/^bytes=\d+-$/);
    expect(sha256(join(out, VIDEO.path))).toBe(VIDEO.sha256);

    const out2 = join(work, 'no-range');
    faults.set(VIDEO.path, { fault: 'cut', times: 1 });
    await runCli(['--sources', sources, '--out', out2, '--retries', '0']);
    expect(existsSync(join(out2, `${VIDEO.path}.part`))).toBe(true);
    faults.set(VIDEO.path, { fault: 'ignore-range', times: Infinity });
    const full = await runCli(['--sources', sources, '--out', out2]);
    faults.delete(VIDEO.path);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toContain('server ignored the range (HTTP 200)');
    expect(full.summary.bytes).toBe(statSync(join(SHARED, VIDEO.path)).size);
    expect(sha256(join(out2, VIDEO.path))).toBe(VIDEO.sha256);
  });

  it('promotes a complete .part without a request, and re-downloads whole when a stale .part fails its hash', async () => {
    const out = join(work, 'parts');
    const [done, stale] = IMAGES;
    mkdirSync(dirname(join(out, done!.path)), { recursive: true });
    // A run killed between the last byte and the rename leaves a complete .part; another left bytes of an old file.
    copyFileSync(join(SHARED, done!.path), join(out, `${done!.path}.part`));
    writeFileSync(join(out, `${stale!.path}.part`), Buffer.alloc(1000, 7));
    const start = requests.length;
    const run = await runCli(['--sources', writeSources('parts', [viaHttp(done!), viaHttp(stale!)]), '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ ok: 2, skipped: 0, failed: [] });
    const seen = requests.slice(start);
    expect(seen.filter((r) => r.path === done!.path)).toEqual([]);
    expect(seen.filter((r) => r.path === stale!.path)).toEqual([
      { path: stale!.path, range: 'bytes=1000-', status: 206 },
      { path: stale!.path, range: undefined, status: 200 },
    ]);
    expect(run.stderr).toContain('resumed file failed its sha256; downloading it whole');
    expect(sha256(join(out, done!.path))).toBe(done!.sha256);
    expect(sha256(join(out, stale!.path))).toBe(stale!.sha256);
  });

  it('reports a corrupted file as E_SHA256_MISMATCH and keeps it out of the folder and the manifest', async () => {
    const out = join(work, 'corrupt');
    const [good, bad] = IMAGES;
    const sources = writeSources('corrupt', [viaHttp(good!), viaHttp(bad!)]);
    faults.set(bad!.path, { fault: 'corrupt', times: Infinity });
    const start = requests.length;
    const run = await runCli(['--sources', sources, '--out', out]);
    faults.delete(bad!.path);
    expect(run.code).toBe(1);
    expect(run.summary.ok).toBe(1);
    expect(run.summary.failed).toEqual([
      { path: bad!.path, code: 'E_SHA256_MISMATCH', detail: expect.stringContaining(`the sources file says ${bad!.sha256}`) },
    ]);
    expect(existsSync(join(out, bad!.path))).toBe(false);
    expect(existsSync(join(out, `${bad!.path}.part`))).toBe(false);
    expect(manifestPaths(out)).toEqual([good!.path]);
    expect(requests.slice(start).filter((r) => r.path === bad!.path)).toHaveLength(1);
  });

  it('retries a 500 and a stalled response with backoff, and does not retry a 404', async () => {
    const out = join(work, 'retry');
    const [a, b, c] = IMAGES;
    const sources = writeSources('retry', [viaHttp(a!), viaHttp(b!), viaHttp(c!)]);
    faults.set(a!.path, { fault: 'error-500', times: 2 });
    faults.set(b!.path, { fault: 'stall', times: 1 });
    faults.set(c!.path, { fault: 'not-found', times: Infinity });
    const start = requests.length;
    const run = await runCli(['--sources', sources, '--out', out, '--timeout-ms', '500']);
    faults.clear();
    expect(run.code).toBe(1);
    expect(run.summary.ok).toBe(2);
    expect(run.summary.failed).toEqual([{ path: c!.path, code: 'E_FETCH', detail: expect.stringContaining('HTTP 404') }]);
    const seen = requests.slice(start);
    expect(seen.filter((r) => r.path === a!.path).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(seen.filter((r) => r.path === b!.path)).toHaveLength(2);
    expect(seen.filter((r) => r.path === c!.path)).toHaveLength(1);
    expect(run.stderr).toContain(`retry 1 of ${a!.path} in `);
    expect(run.stderr).toMatch(/: HTTP 500 Internal Server Error\n/);
    expect(run.stderr).toMatch(new RegExp(`retry 1 of ${b!.path.replace(/[.]/g, '\\.')} .*no data for 500 ms`));
    expect(sha256(join(out, a!.path))).toBe(a!.sha256);
    expect(sha256(join(out, b!.path))).toBe(b!.sha256);
  });

  it('refuses rows whose path would escape the output folder, and a sources file without sha256', async () => {
    const out = join(work, 'escape');
    const sources = writeSources('escape', [
      { ...viaHttp(IMAGES[0]!), path: '../escaped.jpg' },
      { ...viaHttp(IMAGES[1]!), path: '/tmp/absolute.jpg' },
      viaHttp(IMAGES[2]!),
    ]);
    const run = await runCli(['--sources', sources, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.summary.ok).toBe(1);
    expect(run.summary.failed.map((f) => [f.path, f.code])).toEqual([
      ['../escaped.jpg', 'E_SOURCES_INVALID'],
      ['/tmp/absolute.jpg', 'E_SOURCES_INVALID'],
    ]);
    expect(existsSync(join(work, 'escaped.jpg'))).toBe(false);
    expect(manifestPaths(out)).toEqual([IMAGES[2]!.path]);

    const noHash = join(work, 'nohash.csv');
    writeFileSync(noHash, `path,label,modality,group,url\n${IMAGES[0]!.path},real,image,g,${base}/files/${IMAGES[0]!.path}\n`);
    const bad = await runCli(['--sources', noHash, '--out', join(work, 'nohash')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/E_SOURCES_INVALID: .*lacks the column\(s\) sha256/);
  });
});

describe('veracity-dataset from a mirror', () => {
  it('builds a set from ../shared/datasets with --from-manifest, --only-groups and --limit (hard links)', async () => {
    const out = join(work, 'mirror');
    const run = await runCli([
      '--from-manifest',
      SHARED,
      '--out',
      out,
      '--only-groups',
      'faces-ffhq,video-cogvideox,ai-edits-imagic',
      '--limit',
      '3',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ ok: 9, skipped: 0, failed: [] });
    const rows = parseDatasetManifest(readFileSync(join(out, 'manifest.csv'), 'utf8')).rows;
    const expected = shared.rows.filter((r) => ['faces-ffhq', 'video-cogvideox', 'ai-edits-imagic'].includes(r.group));
    const firstThree = (g: string) => expected.filter((r) => r.group === g).slice(0, 3);
    expect(rows.map((r) => r.path)).toEqual(expected.filter((r) => firstThree(r.group).includes(r)).map((r) => r.path));
    for (const row of rows) {
      // Same filesystem here, so each file is a hard link to the mirror's (same inode), verified all the same.
      expect(statSync(join(out, row.path)).ino).toBe(statSync(join(SHARED, row.path)).ino);
      expect(row.notes).toBe(shared.rows.find((r) => r.path === row.path)!.notes);
    }
    const set = ChallengeDataset.load(out);
    expect(set.rows).toHaveLength(9);
    expect(set.count('semisynthetic', 'image')).toBeGreaterThan(0);

    const again = await runCli([
      '--from-manifest',
      SHARED,
      '--out',
      out,
      '--only-groups',
      'faces-ffhq',
      '--limit',
      '3',
      '--copy',
    ]);
    expect(again.summary).toMatchObject({ ok: 0, skipped: 3, failed: [] });
    expect(parseDatasetManifest(readFileSync(join(out, 'manifest.csv'), 'utf8')).rows).toHaveLength(3);

    const typo = await runCli(['--from-manifest', SHARED, '--out', join(work, 'typo'), '--only-groups', 'faces-fhq']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/E_USAGE: no group faces-fhq in .* — fix: --only-groups takes some of: faces-ffhq, /);
    expect(existsSync(join(work, 'typo'))).toBe(false);
  });

  it('builds the example sources file (mirror paths) against ../shared/datasets', async () => {
    const example = join(ROOT, 'models/datasets/example-sources.csv');
    const out = join(work, 'example');
    const run = await runCli(['--sources', example, '--mirror', SHARED, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const listed = parseSources(readFileSync(example, 'utf8'));
    expect(listed.rejected).toEqual([]);
    expect(run.summary).toMatchObject({ ok: listed.rows.length, failed: [] });
    const set = ChallengeDataset.load(out);
    for (const label of LABELS) expect(set.count(label, 'image')).toBeGreaterThan(0);
    expect(set.count('real', 'video') + set.count('synthetic', 'video')).toBe(2);
  });

  it('copies with --copy, catches a mirror file that does not match its hash, and checks folders in place', async () => {
    const mirror = join(work, 'bad-mirror');
    const rows = IMAGES.slice(0, 2);
    for (const row of rows) {
      mkdirSync(dirname(join(mirror, row.path)), { recursive: true });
      copyFileSync(join(SHARED, row.path), join(mirror, row.path));
    }
    const victim = join(mirror, rows[1]!.path);
    writeFileSync(victim, Buffer.concat([readFileSync(victim), Buffer.from('tampered')]));
    writeFileSync(join(mirror, 'manifest.csv'), toCsv(shared.columns, rows));
    const out = join(work, 'from-bad-mirror');
    const run = await runCli(['--from-manifest', mirror, '--out', out, '--copy']);
    expect(run.code).toBe(1);
    expect(run.summary.ok).toBe(1);
    expect(run.summary.failed.map((f) => [f.path, f.code])).toEqual([[rows[1]!.path, 'E_SHA256_MISMATCH']]);
    expect(statSync(join(out, rows[0]!.path)).ino).not.toBe(statSync(join(mirror, rows[0]!.path)).ino);
    expect(existsSync(join(out, rows[1]!.path))).toBe(false);
    expect(manifestPaths(out)).toEqual([rows[0]!.path]);

    // --check verifies a folder in place and writes nothing; --out pointing at the mirror itself is refused.
    const check = await runCli(['--from-manifest', mirror, '--check']);
    expect(check.code).toBe(1);
    expect(check.summary.ok).toBe(1);
    expect(check.summary.failed.map((f) => [f.path, f.code])).toEqual([[rows[1]!.path, 'E_SHA256_MISMATCH']]);
    expect(readFileSync(join(mirror, 'manifest.csv'), 'utf8')).toBe(toCsv(shared.columns, rows));
    const inPlace = await runCli(['--from-manifest', mirror, '--out', mirror]);
    expect(inPlace.code).toBe(2);
    expect(inPlace.stderr).toContain('use --check to verify a folder in place');
    const clean = await runCli(['--from-manifest', SHARED, '--check', '--only-groups', 'video-cogvideox']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.summary.ok).toBe(shared.rows.filter((r) => r.group === 'video-cogvideox').length);
  });
});
