/**
 * Attacks one validator the way issue 22 did, with an honest miner alongside, and reports what it cost.
 *
 *   npm run fuzz:validator -- [--quiet-seconds 25] [--attack-seconds 40] [--dataset DIR] [--out FILE]
 *
 * The validator (the veracity-validator CLI) and the honest miner (veracity-miner-node with the model) are child
 * processes; this process is the attacker, dialling from loopback addresses other than 127.0.0.1 (Linux routes all
 * of 127.0.0.0/8 to lo) as distinct hosts would. First a quiet phase measures the honest miner's recorded answers
 * per second; then, for the attack phase, in waves until it ends: malformed HTTP request targets and headers, raw
 * malformed WebSocket frames, malformed protocol messages before and after auth, connection floods, clients that
 * authenticate and never read their socket, and fake hotkeys that authenticate and never answer. Reports crashes
 * (the validator exiting, or /healthz not answering afterwards: must be 0), the honest answers per second under
 * attack against the quiet phase (must stay within 20 %), and the validator's peak memory. Writes JSON to
 * bench/results/fuzz-validator.json; exits 1 when a bound is broken.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { encode, PROTOCOL_VERSION } from '@veracity/protocol';
import Database from 'better-sqlite3';
import { hostileAddress, RawMiner } from '@veracity/validator/test-support';

const { values: args } = parseArgs({
  options: {
    'quiet-seconds': { type: 'string', default: '25' },
    'attack-seconds': { type: 'string', default: '40' },
    dataset: { type: 'string', default: process.env.VERACITY_DATASET ?? '../shared/datasets' },
    out: { type: 'string', default: 'bench/results/fuzz-validator.json' },
  },
});
const log = (s: string) => process.stderr.write(`fuzz: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quietSeconds = Number(args['quiet-seconds']);
const attackSeconds = Number(args['attack-seconds']);

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519' });
const honestKey = keyring.addFromUri('//Bob');
/** A fresh hotkey from a random seed (a mnemonic would cost a PBKDF2 derivation each). */
const fakeKey = () => keyring.addFromSeed(randomBytes(32));
const dir = mkdtempSync(join(tmpdir(), 'veracity-fuzz-'));
const db = join(dir, 'v.db');

// ---- the validator and the honest miner, as an operator runs them -------------------------------------------------
const validator = spawn(
  process.execPath,
  [
    'validator/bin/veracity-validator.mjs',
    '--dataset',
    resolve(args.dataset),
    '--db',
    db,
    '--port',
    '0',
    '--round-interval-ms',
    '1000',
    '--timeout-ms',
    '6000',
    '--video-share',
    '0',
    '--log-level',
    'info',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let exited: { code: number | null; signal: string | null } | null = null;
validator.once('exit', (code, signal) => (exited = { code, signal }));
const errorLines: string[] = [];
const url = await new Promise<string>((ok, fail) => {
  const lines = createInterface({ input: validator.stderr! });
  lines.on('line', (line) => {
    const m = /"msg":"validator listening","url":"([^"]+)"/.exec(line);
    if (m) ok(m[1]!);
    if (line.includes('"level":"error"')) errorLines.push(line.slice(0, 300));
  });
  validator.once('exit', () => fail(new Error('the validator exited before listening')));
});
const port = Number(new URL(url).port);
const httpBase = url.replace(/^ws/, 'http');
log(`validator ${url} (pid ${validator.pid})`);

let peakRssKb = 0;
const rssKb = (field: 'VmRSS' | 'VmHWM') => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${validator.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};
const sampler = setInterval(() => (peakRssKb = Math.max(peakRssKb, rssKb('VmRSS'))), 250);

const miner: ChildProcess = spawn(
  process.execPath,
  ['validator/bin/veracity-miner-node.mjs', '--validator', url, '--netuid', '2', '--threads', '1'],
  { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, VERACITY_MINER_URI: '//Bob' } },
);

const reader = new Database(db, { readonly: true, fileMustExist: false });
const honestOk = (from: number, to: number) =>
  (
    reader
      .prepare(`SELECT COUNT(*) AS n FROM answers WHERE hotkey = ? AND outcome = 'ok' AND at >= ? AND at < ?`)
      .get(honestKey.address, from, to) as { n: number }
  ).n;
const honestAll = (from: number, to: number) =>
  reader
    .prepare(`SELECT outcome, COUNT(*) AS n FROM answers WHERE hotkey = ? AND at >= ? AND at < ? GROUP BY outcome`)
    .all(honestKey.address, from, to) as Array<{ outcome: string; n: number }>;

log('waiting for the honest miner to answer ...');
for (let i = 0; i < 600 && honestOk(0, Date.now() + 1) < 3; i++) await sleep(100);
if (honestOk(0, Date.now() + 1) < 3) throw new Error('the honest miner did not answer within 60 s');

log(`quiet phase: ${quietSeconds} s`);
const q0 = Date.now();
await sleep(quietSeconds * 1000);
const q1 = Date.now();

// ---- attacks ------------------------------------------------------------------------------------------------------
const counts: Record<string, number> = {};
const closeCodes: Record<string, number> = {};
const bump = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
let address = 0;
const from = () => hostileAddress(address++ % 12);

/** Raw bytes over TCP from a hostile address; resolves with the first reply line ('' when none). */
function raw(bytes: Buffer | string, waitMs = 400): Promise<string> {
  return new Promise((ok) => {
    const s: Socket = connect({ port, host: '127.0.0.1', localAddress: from() }, () => s.write(bytes));
    let got = '';
    const t = setTimeout(() => s.destroy(), waitMs);
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(t);
      ok(got.split('\r\n')[0] ?? '');
    });
    s.on('error', () => undefined);
  });
}

const statusLines: Record<string, number> = {};
const HTTP_TARGETS = ['//', '///', '//[', '//x:99999', '//[::1', '/%zz', '/%00', '*', 'http://[/', `/${'a'.repeat(9000)}`];
const HTTP_RAW = [
  'GET / HTTP/1.1\r\nHost x\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
  `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
  'GET / HTTP/1.1\r\nHost: \u0000\u0001\r\n\r\n',
  'BREW /api/status HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /api/status HTTP/9.9\r\n\r\n',
  '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003', // a TLS ClientHello start
  'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 99\r\n\r\n',
];
async function httpWave(): Promise<void> {
  const replies = await Promise.all([
    ...HTTP_TARGETS.map((t) => raw(`GET ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)),
    ...HTTP_RAW.map((r) => raw(r)),
  ]);
  for (const r of replies) statusLines[r.slice(0, 12) || '(closed)'] = (statusLines[r.slice(0, 12) || '(closed)'] ?? 0) + 1;
  bump('http_requests', replies.length);
}

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const masked = (opcode: number, payload: Buffer, fin = true) => {
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length]);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
};
const BAD_FRAMES = [
  Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), // unmasked client frame
  masked(0x03, Buffer.from('reserved opcode')),
  masked(0x09, Buffer.alloc(10), false), // fragmented control frame
  Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]), // 2^63-byte length
  Buffer.from([0x81, 0xfe, 0xff, 0xff, 1, 2, 3, 4]), // 64 KiB announced, never sent
  masked(0x01, Buffer.from([0xff, 0xfe, 0xfd])), // text frame, not UTF-8
  masked(0x02, Buffer.from([0, 0, 0, 9, 1])), // binary from a miner
  Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)),
];
async function wsFrameWave(): Promise<void> {
  await Promise.all(BAD_FRAMES.map((f) => raw(Buffer.concat([Buffer.from(UPGRADE), f]), 600)));
  bump('ws_raw_frames', BAD_FRAMES.length);
}

const track = (m: RawMiner) => {
  m.ws.once('close', (code) => (closeCodes[code] = (closeCodes[code] ?? 0) + 1));
  return m;
};
const GARBAGE = ['not json', '{}', '[]', '{"v":3,"type":"auth"}', '{"v":2,"type":"warp"}', 'x'.repeat(70_000), '{"v":2'];
async function messageWave(): Promise<void> {
  // Unauthenticated: each fatal on its own connection.
  await Promise.all(
    GARBAGE.map(async (g) => {
      const m = track(await RawMiner.connect(url, { localAddress: from() }));
      m.send(g);
      await m.closeEvent(2000).catch(() => undefined);
      m.close();
    }),
  );
  // Authenticated with a throwaway hotkey (no chain: any key may mine): malformed messages, each non-fatal.
  const m = track(await RawMiner.connect(url, { signer: fakeKey(), localAddress: from() }));
  const bad = [
    '{"v":2,"type":"answer","id":"c1","probabilities":[0.2,0.3,0.5],"ms":-5}',
    '{"v":2,"type":"answer","id":"c1","probabilities":[NaN,0.5,0.5]}',
    JSON.stringify({ v: 2, type: 'error', code: 'E_X', message: 'x'.repeat(1025) }),
    '{"v":2,"type":"answer","id":"nope","probabilities":[0.2,0.3,0.5]}',
    '{"v":2,"type":"answer","id":"c1","probabilities":[1e308,1e308,-1e308]}',
    `{"v":2,"type":"answer","id":"${'i'.repeat(5000)}","probabilities":[0.2,0.3,0.5]}`,
  ];
  for (let i = 0; i < 60; i++) m.send(bad[i % bad.length]!);
  bump('protocol_messages', GARBAGE.length + 60);
  await sleep(300);
  // Then a burst over the message rate limit: closed with 4006.
  for (let i = 0; i < 400; i++) m.send(encode({ v: PROTOCOL_VERSION, type: 'ping', seq: i, t: Date.now() }));
  bump('protocol_messages', 400);
  await m.closeEvent(3000).catch(() => undefined);
  m.close();
}

async function floodWave(): Promise<void> {
  // 60 connections from one address at once (over the per-address cap and handshake rate), then dropped.
  const addr = from();
  const conns = await Promise.all(Array.from({ length: 60 }, () => RawMiner.connect(url, { localAddress: addr })));
  for (const c of conns) c.close();
  bump('flood_connections', conns.length);
  // Slowloris: half an HTTP request on 20 sockets, held for the wave.
  const held = Array.from({ length: 20 }, () => {
    const s = connect({ port, host: '127.0.0.1', localAddress: from() }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n'));
    s.on('error', () => undefined);
    return s;
  });
  await sleep(1000);
  for (const s of held) s.destroy();
  bump('slowloris_sockets', held.length);
}

/** Authenticated connections kept for the whole attack: fake hotkeys that never answer and peers that never read. */
const persistent: RawMiner[] = [];
async function openPersistent(fakes: number, nonReaders: number): Promise<void> {
  for (let i = 0; i < fakes; i++) {
    persistent.push(track(await RawMiner.connect(url, { signer: fakeKey(), localAddress: from() })));
  }
  bump('fake_hotkeys', fakes);
  for (let i = 0; i < nonReaders; i++) {
    const m = track(await RawMiner.connect(url, { signer: fakeKey(), localAddress: from() }));
    (m.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    persistent.push(m);
  }
  bump('non_reading_clients', nonReaders);
}

log(`attack phase: ${attackSeconds} s`);
const a0 = Date.now();
await openPersistent(200, 12);
let waves = 0;
while (Date.now() - a0 < attackSeconds * 1000 && !exited) {
  await Promise.all([httpWave(), wsFrameWave(), messageWave(), floodWave()]);
  waves++;
  await sleep(250);
}
const a1 = Date.now();
for (const m of persistent) m.close();

// ---- verdict ------------------------------------------------------------------------------------------------------
await sleep(500);
const healthy = await fetch(`${httpBase}healthz`)
  .then((r) => r.status === 200)
  .catch(() => false);
const crashes = exited || !healthy ? 1 : 0;
const metrics = await fetch(`${httpBase}metrics`)
  .then((r) => r.text())
  .catch(() => '');
const refused = Object.fromEntries(
  [...metrics.matchAll(/veracity_protocol_errors_total\{code="(E_[A-Z_]+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])]),
);
clearInterval(sampler);
const peakHwmKb = rssKb('VmHWM');
const quiet = { answers: honestOk(q0, q1), seconds: (q1 - q0) / 1000 };
const attacked = { answers: honestOk(a0, a1), seconds: (a1 - a0) / 1000 };
const perSecond = (p: { answers: number; seconds: number }) => Math.round((p.answers / p.seconds) * 1000) / 1000;
const ratio = perSecond(attacked) / perSecond(quiet);
const report = {
  benchmark: 'fuzz-validator',
  command: `npm run fuzz:validator -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version },
  validator: { round_interval_ms: 1000, timeout_ms: 6000, sample_size: 50, video_share: 0 },
  crashes,
  validator_exit: exited,
  healthz_after: healthy,
  honest_miner: {
    quiet: { ...quiet, per_second: perSecond(quiet), outcomes: honestAll(q0, q1) },
    attacked: { ...attacked, per_second: perSecond(attacked), outcomes: honestAll(a0, a1) },
    attacked_vs_quiet: Math.round(ratio * 1000) / 1000,
  },
  validator_peak_rss_mb: Math.round(Math.max(peakRssKb, peakHwmKb) / 1024),
  attack: { waves, ...counts },
  attacker_saw: { close_codes: closeCodes, http_status_lines: statusLines },
  validator_refusals: refused,
  validator_error_log_lines: errorLines.length,
  within_bounds: crashes === 0 && ratio >= 0.8,
};
miner.kill('SIGTERM');
validator.kill('SIGTERM');
reader.close();
mkdirSync('bench/results', { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
if (errorLines.length > 0) log(`validator error lines (first 5):\n${errorLines.slice(0, 5).join('\n')}`);
process.exit(report.within_bounds ? 0 : 1);
