// Integration: veracity-bundle as a miner runs it. Every way a check or a publish can fail is one line on stderr
// with the problem's code and its fix, exit 2, nothing on stdout and no stack trace (models/cli/usage.ts); `check`
// and `serve` work on the committed bundles. Publishing against a chain is in model-channel.int.test.ts.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleDigest } from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUsage, run } from '../../../models/cli/cli-test-support.js';
import { BUNDLE_DIRS } from '../test-support/published-subnet.js';
import { serveBundles, type ServedBundles } from './serve.js';

const BIN = fileURLToPath(new URL('../../bin/veracity-bundle.mjs', import.meta.url));
const P = 'veracity-bundle';
const DETECTOR_SHA = bundleDigest(readFileSync(join(BUNDLE_DIRS.detector, 'manifest.json')));
let work: string;
let tampered: string;
let served: ServedBundles;
/** A port nothing listens on (a server opened and closed). */
let deadPort = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'veracity-bundle-cli-'));
  tampered = join(work, 'tampered');
  mkdirSync(tampered);
  copyFileSync(join(BUNDLE_DIRS.tiny, 'manifest.json'), join(tampered, 'manifest.json'));
  const model = readFileSync(join(BUNDLE_DIRS.tiny, 'model.onnx'));
  model.writeUInt8(model.readUInt8(100) ^ 1, 100);
  writeFileSync(join(tampered, 'model.onnx'), model);
  served = await serveBundles({ '/detector/': BUNDLE_DIRS.detector });
  const dead = await serveBundles({ '/': BUNDLE_DIRS.tiny });
  deadPort = dead.port;
  await dead.close();
});
afterAll(async () => {
  await served?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('veracity-bundle answers bad input in one line with a fix, exit 2', () => {
  const env = { VERACITY_MINER_URI: '//Bob', VERACITY_CHAIN: '', VERACITY_NETUID: '', VERACITY_KEYSTORE: '' };
  it.each([
    [[], {}, /no command given/],
    [['push', '--bundle', 'x'], {}, /unknown command "push"/],
    [['check'], {}, /--bundle is required/],
    [['check', '--bundle', '/no/such/dir'], {}, /E_NO_MANIFEST: no manifest\.json in \/no\/such\/dir/],
    [['check', '--bundle', 'TAMPERED'], {}, /E_SHA256_MISMATCH: model\.onnx has 7194 bytes and sha256 \w+; manifest\.json says/],
    [['serve', '--bundle', 'TINY', '--port', 'http'], {}, /--port must be a whole number from 0 to 65535/],
    [['publish', '--bundle', 'TINY'], {}, /--url is required/],
    [['publish', '--bundle', 'TINY', '--url', 'http://127.0.0.1:1/'], {}, /no chain endpoint/],
    [
      ['publish', '--bundle', 'TINY', '--url', 'http://x/', '--chain', 'ws://x', '--netuid', 'two'],
      {},
      /--netuid must be a whole number/,
    ],
    [['publish', '--bundle', 'TINY', '--url', 'http://x/', '--chain', 'ws://x'], { VERACITY_MINER_URI: '' }, /no miner hotkey/],
    [
      ['publish', '--bundle', 'TINY', '--url', 'ftp://x/', '--chain', 'ws://x'],
      {},
      /E_BAD_URL: --url ftp:\/\/x\/: url must be http or https/,
    ],
    [
      ['publish', '--bundle', 'TINY', '--url', 'DETECTOR_URL', '--chain', 'ws://x'],
      {},
      new RegExp(`E_URL_MISMATCH: .* serves a manifest with sha256 ${DETECTOR_SHA}, not this bundle's 6fe86a86`),
    ],
    [
      ['publish', '--bundle', 'TINY', '--url', 'DEAD_URL', '--chain', 'ws://x'],
      {},
      /E_URL_UNREACHABLE: cannot fetch http:\/\/127\.0\.0\.1:\d+\/tiny\/manifest\.json/,
    ],
    [
      ['publish', '--bundle', 'TINY', '--url', 'DEAD_URL', '--chain', 'DEAD_CHAIN', '--no-check-url'],
      {},
      /cannot reach the chain at ws:\/\/127\.0\.0\.1:\d+/,
    ],
  ])('%j %j', async (args, extra, problem) => {
    const real = args.map((a) =>
      a === 'TINY'
        ? BUNDLE_DIRS.tiny
        : a === 'TAMPERED'
          ? tampered
          : a === 'DETECTOR_URL'
            ? served.bundles[0]!.url
            : a === 'DEAD_URL'
              ? `http://127.0.0.1:${deadPort}/tiny/`
              : a === 'DEAD_CHAIN'
                ? `ws://127.0.0.1:${deadPort}`
                : a,
    );
    expectUsage(await run(BIN, real, { ...env, ...extra }), P, problem);
  });

  it('check prints the id, size and test inference of a good bundle', async () => {
    const r = await run(BIN, ['check', '--bundle', BUNDLE_DIRS.tiny]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /veracity-fixture-tiny 0\.0\.1, 2 files, 7941 bytes, sha256 6fe86a86\w{56}; test inference [\d.]+ [\d.]+ [\d.]+/,
    );
  });

  it('serve hosts the bundle until SIGTERM: the URL it prints serves manifest.json, and stops cleanly', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--bundle', BUNDLE_DIRS.tiny, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    try {
      const end = Date.now() + 60_000;
      while (!/at (http:\/\/\S+\/):/.test(out) && Date.now() < end) await new Promise((ok) => setTimeout(ok, 100));
      const url = /at (http:\/\/\S+\/):/.exec(out)![1]!;
      expect(out).toMatch(
        /serving veracity-fixture-tiny 0\.0\.1 \(sha256 6fe86a86\w+\) at http:\/\/127\.0\.0\.1:\d+\/: manifest\.json, model\.onnx/,
      );
      expect(out).toContain(`publish it with: veracity-bundle publish --bundle ${BUNDLE_DIRS.tiny} --url ${url}`);
      const res = await fetch(new URL('manifest.json', url));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(BUNDLE_DIRS.tiny, 'manifest.json')))).toBe(true);
      expect((await fetch(new URL('parity.json', url))).status).toBe(404);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('--help names every command and flag, and where the hotkey comes from', async () => {
    const r = await run(BIN, ['--help']);
    expect(r.code).toBe(0);
    for (const w of ['check', 'serve', 'publish', '--url', '--chain', '--netuid', '--keystore', '--no-check-url', '--port'])
      expect(r.stdout).toContain(w);
    expect(r.stdout).toContain('VERACITY_MINER_URI');
  });
});
