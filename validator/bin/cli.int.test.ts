// Integration: the validator package's CLIs (veracity-validator, veracity-miner-node, localnet) as users run them:
// a missing or bad input gets one line with the problem and its fix, exit code 2, no stack trace; --help says what
// every flag means (issue 27).
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUsage, run } from '../../models/cli/cli-test-support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VALIDATOR = join(ROOT, 'validator/bin/veracity-validator.mjs');
const MINER = join(ROOT, 'validator/bin/veracity-miner-node.mjs');
const LOCALNET = join(ROOT, 'validator/bin/localnet.ts');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const DATASET = join(ROOT, 'models/fixtures/tiny'); // any folder without manifest.csv would do for the bad cases
const SHARED_SET = process.env.VERACITY_DATASET ?? join(ROOT, '../shared/datasets');

let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  // A port already taken, to see the validator say so instead of an EADDRINUSE trace.
  busy = createServer();
  await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((ok) => busy.close(() => ok())));

describe('veracity-validator', () => {
  it.each([
    [['--bogus'], /unknown option --bogus/],
    [['--port', 'abc', '--timeout-ms', '5'], /invalid configuration: port must be .*; timeoutMs must be at least 100/],
    [['--video-share'], /--video-share needs a value/],
    [['--dataset', '/no/such/set'], /no dataset at \/no\/such\/set \(no manifest\.csv there\)/],
  ])('%j', async (args, problem) => {
    expectUsage(await run(VALIDATOR, [...args, '--db', ':memory:']), 'veracity-validator', problem);
  });

  it('a port in use is named with the flag that moves it', async () => {
    const r = await run(VALIDATOR, [
      '--dataset',
      SHARED_SET,
      '--db',
      ':memory:',
      '--port',
      String(busyPort),
      '--log-level',
      'error',
    ]);
    expectUsage(r, 'veracity-validator', new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is already in use.*--port N`));
  });

  it('--help says what every flag means', async () => {
    const r = await run(VALIDATOR, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--video-share N +percent of challenges that are video clips/);
    // Every flag line has words after it, and its environment variable and default on the next line.
    const flags = [...r.stdout.matchAll(/^ {2}--([a-z-]+) [A-Z]+ +(.*)\n +\[(VERACITY_\w+), default /gm)];
    expect(flags.map((m) => m[1])).toEqual(
      expect.arrayContaining(['dataset', 'db', 'port', 'video-share', 'chain', 'netuid', 'weights-interval-ms', 'log-level']),
    );
    for (const m of flags) expect(m[2]!.length, m[1]).toBeGreaterThan(10);
    expect(r.stdout).toContain('VERACITY_LOG_LEVEL');
  });
});

describe('veracity-miner-node', () => {
  it.each([
    [[], {}, /no validator given/],
    [['--validator', 'localhost:8790'], {}, /--validator localhost:8790 is not a ws:\/\/ or wss:\/\/ URL/],
    [['--validator', 'ws://127.0.0.1:9/', '--netuid', 'two'], {}, /--netuid must be a whole number/],
    [['--validator', 'ws://127.0.0.1:9/'], {}, /no miner hotkey: VERACITY_MINER_URI is not set/],
    [['--validator', 'ws://127.0.0.1:9/', '--bundle', '/no/bundle'], { VERACITY_MINER_URI: '//Bob' }, /no model bundle/],
    [['--validator', 'ws://127.0.0.1:9/', '--behaviour', 'lazy'], {}, /--behaviour lazy is not one of model, random/],
  ])('%j %j', async (args, env, problem) => {
    expectUsage(await run(MINER, args, { VERACITY_MINER_URI: '', ...env }), 'veracity-miner-node', problem);
  });

  it('--help says what every flag means', async () => {
    const r = await run(MINER, ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['validator', 'netuid', 'bundle', 'accept', 'threads', 'behaviour'])
      expect(r.stdout).toMatch(new RegExp(`^  --${flag} \\S+ +\\w`, 'm'));
    expect(r.stdout).toContain('VERACITY_MINER_URI');
  });
});

describe('localnet', () => {
  it.each([
    [['--bogus'], /unknown option --bogus.*npm run localnet -- --help/],
    [['--spec', '/no/spec.json'], /no chain spec at \/no\/spec\.json/],
    [['--spec', DATASET, '--port', 'x'], /--port must be a whole number from 0 to 65535/],
  ])('%j', async (args, problem) => {
    expectUsage(await run(TSX, [LOCALNET, ...args]), 'localnet', problem);
  });

  it('--help says what every flag means', async () => {
    const r = await run(TSX, [LOCALNET, '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      'spec',
      'spec-sha256',
      'port',
      'db',
      'fresh',
      'miners',
      'validator',
      'tempo',
      'rate-limit',
      'commit-reveal',
    ])
      expect(r.stdout).toMatch(new RegExp(`^  --${flag}( \\S+)? +\\w`, 'm'));
  });
});
