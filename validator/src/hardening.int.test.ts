// Integration: the validator's hostile edges, on loopback with the real dataset, SQLite and WebSockets: HTTP
// targets that once killed the process, malformed messages inside a session, late answers, connection and rate
// limits, a peer that never reads, and miners that never answer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type ChallengeMessage, encode, ErrorCode, type Message, PROTOCOL_VERSION } from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChallengeDataset } from './challenges/dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from './challenges/factory.js';
import type { GuardLimits } from './guard.js';
import { createLogger } from './log.js';
import { NodeMiner } from './miner/node-miner.js';
import { ValidatorServer } from './server.js';
import { statusHandler } from './status/http.js';
import { createMetrics, type Metrics } from './status/metrics.js';
import type { StatusSnapshot } from './status/types.js';
import { Store } from './store.js';
import { DATASET, hostileAddress, until } from './test-support/helpers.js';
import { RawMiner } from './test-support/raw-miner.js';

const keyring = new Keyring({ type: 'sr25519' });
const key = (uri: string) => keyring.addFromUri(uri);
const dataset = ChallengeDataset.load(DATASET);

interface Running {
  server: ValidatorServer;
  store: Store;
  metrics: Metrics;
  url: string;
  http: string;
}

async function start(opts: {
  timeoutMs?: number;
  heartbeatMs?: number;
  limits?: Partial<GuardLimits>;
  seed: string;
}): Promise<Running> {
  const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-h-')), 'v.db'));
  const metrics = createMetrics();
  const pageDir = mkdtempSync(join(tmpdir(), 'veracity-page-'));
  writeFileSync(join(pageDir, 'index.html'), '<title>status</title>');
  const server = new ValidatorServer({
    host: '127.0.0.1',
    port: 0,
    netuid: 7,
    signer: key('//Alice'),
    store,
    factory: new ChallengeFactory(dataset, { ...DEFAULT_CHALLENGE_CONFIG, modalityMix: { image: 1, video: 0 }, seed: opts.seed }),
    metrics,
    log: createLogger('error'),
    sampleSize: 50,
    timeoutMs: opts.timeoutMs ?? 4000,
    roundIntervalMs: 0,
    heartbeatMs: opts.heartbeatMs ?? 1000,
    ...(opts.limits ? { limits: opts.limits } : {}),
    http: statusHandler({ metrics, snapshot: () => ({ rounds: 1 }) as unknown as StatusSnapshot, pageDir }),
  });
  const url = await server.listen();
  return { server, store, metrics, url, http: url.replace(/^ws/, 'http') };
}

async function errorsCounted(metrics: Metrics, code: string): Promise<number> {
  const m = await metrics.protocolErrors.get();
  return m.values.find((v) => v.labels.code === code)?.value ?? 0;
}

/** One raw HTTP/1.1 request, bytes exactly as given; resolves with the status line (or '' when the socket closed). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) s.destroy();
    });
    s.on('close', () => ok(got.split('\r\n')[0] ?? ''));
    s.on('error', () => ok(''));
  });
}

const isChallenge = (m: Message): m is ChallengeMessage => m.type === 'challenge';

describe('validator hardening', () => {
  let v: Running;
  beforeAll(async () => {
    await cryptoWaitReady();
    v = await start({ seed: 'hardening' });
  });
  afterAll(async () => {
    await v.server.close();
    v.store.close();
  });

  it('answers every HTTP target it cannot parse with a status and stays up', async () => {
    const port = v.server.port;
    const targets = ['//', '///', '//[', '//x:99999', '//x/../../etc/passwd', '*', 'http://[/', '%zz', '/%zz', '/\u0000'];
    for (const t of targets) {
      const status = await rawHttp(port, `GET ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(status, t).toMatch(/^HTTP\/1\.1 (400|403|404)/);
    }
    // Broken request lines and headers are refused by Node's parser with 400.
    for (const req of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n`]) {
      expect(await rawHttp(port, req)).toMatch(/^HTTP\/1\.1 4\d\d|^$/);
    }
    expect((await fetch(`${v.http}healthz`)).status).toBe(200);
    expect((await fetch(`${v.http}api/status`)).status).toBe(200);
  });

  it('a malformed message inside a session costs that message, not the connection', async () => {
    const m = await RawMiner.connect(v.url, { signer: key('//Bob') });
    const c = await m.next(isChallenge, 30_000);
    const bad = [
      `{"v":2,"type":"answer","id":"${c.id}","probabilities":[0.2,0.3,0.5],"ms":-5}`,
      `{"v":2,"type":"answer","id":"${c.id}","probabilities":[NaN,0.5,0.5]}`,
      JSON.stringify({ v: 2, type: 'error', code: 'E_X', message: 'x'.repeat(1025) }),
    ];
    for (const text of bad) {
      m.send(text);
      const e = await m.next((x) => x.type === 'error' && x.code === ErrorCode.BadMessage);
      expect(e.type === 'error' && e.message.length).toBeLessThanOrEqual(1024);
    }
    await m.roundTrip(1);
    expect(m.closed).toBeUndefined();
    // The first bad answer named the challenge: it is scored invalid (the second, also naming it, changes nothing).
    const row = v.store.db
      .prepare('SELECT outcome FROM answers WHERE hotkey = ? AND challenge_id = ?')
      .get(key('//Bob').address, c.id);
    expect(row).toEqual({ outcome: 'invalid' });
    m.close();
  });

  it('counts a fatal decode error once', async () => {
    const before = await errorsCounted(v.metrics, ErrorCode.BadMessage);
    const m = await RawMiner.connect(v.url, { localAddress: hostileAddress(0) });
    m.send('not json');
    expect((await m.closeEvent()).code).toBe(4000);
    expect(await errorsCounted(v.metrics, ErrorCode.BadMessage)).toBe(before + 1);
  });

  it('an answer after the deadline gets E_LATE_ANSWER', async () => {
    const late = await start({ seed: 'late', timeoutMs: 600 });
    try {
      const m = await RawMiner.connect(late.url, { signer: key('//Charlie') });
      const c = await m.next(isChallenge, 30_000);
      await until(() => late.server.roundsRun >= 1, 10_000, 'the round to close');
      m.send(encode({ v: PROTOCOL_VERSION, type: 'answer', id: c.id, probabilities: [0.2, 0.3, 0.5] }));
      const e = await m.next((x) => x.type === 'error' && x.ref === c.id);
      expect(e.type === 'error' && e.code).toBe(ErrorCode.LateAnswer);
      m.close();
    } finally {
      await late.server.close();
      late.store.close();
    }
  });

  it('closes a connection that sends faster than the message rate limit with 4006', async () => {
    const m = await RawMiner.connect(v.url, { signer: key('//Dave') });
    for (let i = 0; i < 300; i++) m.send(encode({ v: PROTOCOL_VERSION, type: 'ping', seq: i, t: Date.now() }));
    const close = await m.closeEvent();
    expect(close.code).toBe(4006);
    expect(close.reason).toMatch(/^E_RATE_LIMITED/);
  });

  it('caps connections per address and how fast one address opens them (4006), other addresses unaffected', async () => {
    const capped = await start({
      seed: 'caps',
      limits: { maxConnectionsPerIp: 4, handshakes: { perSecond: 0.05, burst: 6 } }, // 1 token per 20 s: no refill here
    });
    try {
      const from = hostileAddress(7);
      const held = await Promise.all(Array.from({ length: 4 }, () => RawMiner.connect(capped.url, { localAddress: from })));
      expect(held.every((h) => h.closed === undefined)).toBe(true);
      const fifth = await RawMiner.connect(capped.url, { localAddress: from });
      expect((await fifth.closeEvent()).code).toBe(4006);
      for (const h of held) h.close();
      await until(() => capped.server.connected().length === 0, 5000, 'the held sockets to go');
      // 6 tokens, 4 spent above (the fifth was refused by the cap before taking one): 2 more dials, then 4006.
      let refused = 0;
      for (let i = 0; i < 5; i++) {
        const d = await RawMiner.connect(capped.url, { localAddress: from });
        if (d.closed?.code === 4006 || (await d.closeEvent(300).catch(() => null))?.code === 4006) refused++;
        d.close();
      }
      expect(refused).toBeGreaterThanOrEqual(3);
      const other = await RawMiner.connect(capped.url, { localAddress: hostileAddress(8), signer: key('//Eve') });
      expect(other.closed).toBeUndefined();
      other.close();
    } finally {
      await capped.server.close();
      capped.store.close();
    }
  });

  it('closes a peer that stops reading once its unsent queue passes the send budget (4011)', async () => {
    // Heartbeats slow enough that the budget, not the heartbeat timeout, ends it; an honest miner keeps rounds going.
    const budget = await start({ seed: 'budget', heartbeatMs: 120_000, limits: { sendBudgetBytes: 64 * 1024 } });
    const honest = new NodeMiner({ url: budget.url, signer: key('//Bob'), netuid: 7, behaviour: 'random' });
    try {
      await honest.start();
      const m = await RawMiner.connect(budget.url, { signer: key('//Ferdie') });
      // Stop reading: the kernel buffers fill, then ws queues in user space (bufferedAmount).
      (m.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await until(() => !budget.server.connected().includes(key('//Ferdie').address), 80_000, 'the non-reading peer to go');
      expect(await errorsCounted(budget.metrics, ErrorCode.SlowReader)).toBe(1);
      expect(budget.server.connected()).toEqual([key('//Bob').address]);
      m.close();
    } finally {
      honest.stop();
      await budget.server.close();
      budget.store.close();
    }
  }, 90_000);

  it('rounds do not wait on miners that never answer once an honest one has answered', async () => {
    // A 15 s deadline: had rounds waited on the silent miners, 6 answers would take 6 deadlines (90 s).
    const silent = await start({ seed: 'silent', timeoutMs: 15_000 });
    const miners: NodeMiner[] = [];
    try {
      const honest = new NodeMiner({ url: silent.url, signer: key('//Bob'), netuid: 7, behaviour: 'random' });
      miners.push(honest);
      for (let i = 0; i < 8; i++)
        miners.push(new NodeMiner({ url: silent.url, signer: key(`//Silent${i}`), netuid: 7, behaviour: 'silent' }));
      await Promise.all(miners.map((m) => m.start()));
      // The first round waits on everyone (nobody has answered yet, so nobody is known to be alive).
      await until(() => silent.server.roundsRun >= 1 && honest.answered >= 2, 45_000, 'the honest miner to answer');
      const t0 = Date.now();
      const r0 = silent.server.roundsRun;
      // Each round stays open for the silent miners until its deadline, but the next one goes out at once.
      await until(() => honest.answered >= 8, 45_000, '6 more answers');
      expect(Date.now() - t0).toBeLessThan(15_000);
      await until(() => silent.server.roundsRun >= r0 + 4, 45_000, 'those rounds to close');
      const rows = silent.store.db
        .prepare(`SELECT outcome, COUNT(*) AS n FROM answers WHERE hotkey = ? GROUP BY outcome`)
        .all(key('//Bob').address);
      expect(rows).toEqual([{ outcome: 'ok', n: expect.any(Number) }]);
    } finally {
      for (const m of miners) m.stop();
      await silent.server.close();
      silent.store.close();
    }
  }, 150_000);
});
