// Integration: a validator on loopback with the real dataset, SQLite, sharp/ffmpeg challenges and real WebSockets;
// Node reference miners running the model runtime; and a hostile client sending >= 10,000 malformed frames.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type Detector, loadNodeDetector } from '@veracity/models/node';
import { defaultBundleDir } from '@veracity/models/paths';
import { encode, PROTOCOL_VERSION, signAuth, decodeText, type HelloMessage } from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChallengeDataset } from './challenges/dataset.js';
import { ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from './challenges/factory.js';
import { createLogger } from './log.js';
import { NodeMiner } from './miner/node-miner.js';
import { DATASET, hostileAddress, until } from './test-support/helpers.js';
import { ValidatorServer } from './server.js';
import { createMetrics } from './status/metrics.js';
import { Store } from './store.js';

describe('validator with a miner fleet on loopback', () => {
  let server: ValidatorServer;
  let store: Store;
  let detector: Detector;
  let url: string;
  const miners: NodeMiner[] = [];
  const keyring = new Keyring({ type: 'sr25519' });
  const key = (uri: string) => keyring.addFromUri(uri);

  beforeAll(async () => {
    await cryptoWaitReady();
    detector = await loadNodeDetector(defaultBundleDir());
    store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-v-')), 'v.db'));
    const registered = ['//Bob', '//Charlie', '//Dave', '//Ferdie'].map((u) => key(u).address);
    server = new ValidatorServer({
      host: '127.0.0.1',
      port: 0,
      netuid: 7,
      signer: key('//Alice'),
      store,
      factory: new ChallengeFactory(ChallengeDataset.load(DATASET), {
        ...DEFAULT_CHALLENGE_CONFIG,
        modalityMix: { image: 4, video: 1 },
        videoFrames: 3,
        seed: 'server-test',
      }),
      metrics: createMetrics(),
      log: createLogger('warn'),
      sampleSize: 50,
      timeoutMs: 2000,
      roundIntervalMs: 0,
      heartbeatMs: 1000,
      registration: (hotkey) => ({ ok: registered.includes(hotkey), uid: registered.indexOf(hotkey) }),
    });
    url = await server.listen();
  });

  afterAll(async () => {
    for (const m of miners) m.stop();
    await server.close();
    store.close();
    await detector.dispose();
  });

  it('scores a model miner, a guessing miner and a silent one; refuses an unregistered hotkey', async () => {
    const mk = (uri: string, behaviour: 'model' | 'random' | 'silent') => {
      const m = new NodeMiner({ url, signer: key(uri), netuid: 7, validator: key('//Alice').address, behaviour, detector });
      miners.push(m);
      return m;
    };
    const [good, random, silent, stranger] = [
      mk('//Bob', 'model'),
      mk('//Charlie', 'random'),
      mk('//Dave', 'silent'),
      mk('//Eve', 'model'),
    ];
    await Promise.all([good, random, silent, stranger].map((m) => m.start()));
    await until(() => server.roundsRun >= 8, 90_000, '8 rounds');
    await until(() => stranger.lastClose !== undefined, 5000, 'the unregistered miner to be refused');
    expect(stranger.lastClose?.code).toBe(4004);

    const scores = server.scores();
    const s = (uri: string) => scores.get(key(uri).address)!;
    expect(good.answered).toBeGreaterThanOrEqual(8);
    expect(s('//Dave').score).toBe(0);
    expect(s('//Dave').weight).toBe(0);
    expect(s('//Dave').detail.modalities.image.brier).toBe(1);
    expect(s('//Bob').detail.modalities.image.n).toBeGreaterThanOrEqual(5);
    const weights = [...scores.values()].reduce((a, b) => a + b.weight, 0);
    expect(weights === 0 || Math.abs(weights - 1) < 1e-9).toBe(true);
    expect(scores.has(key('//Eve').address)).toBe(false);
  }, 120_000);

  it('a miner that declines (E_DECLINED) is scored as unanswered at once: rounds do not wait for the deadline', async () => {
    // A server of its own with a 30 s deadline and one miner that declines everything: had the decline been ignored,
    // three rounds would take 90 s.
    const own = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-d-')), 'v.db'));
    const solo = new ValidatorServer({
      host: '127.0.0.1',
      port: 0,
      netuid: 7,
      signer: key('//Alice'),
      store: own,
      factory: new ChallengeFactory(ChallengeDataset.load(DATASET), { ...DEFAULT_CHALLENGE_CONFIG, seed: 'decline-test' }),
      metrics: createMetrics(),
      log: createLogger('warn'),
      sampleSize: 10,
      timeoutMs: 30_000,
      roundIntervalMs: 0,
      heartbeatMs: 1000,
      registration: () => ({ ok: true, uid: 0 }),
    });
    const decliner = new NodeMiner({
      url: await solo.listen(),
      signer: key('//Ferdie'),
      netuid: 7,
      validator: key('//Alice').address,
      behaviour: 'decline',
    });
    try {
      const t0 = Date.now();
      await decliner.start();
      await until(() => solo.roundsRun >= 3, 20_000, '3 rounds, each closed by the decline');
      expect(Date.now() - t0).toBeLessThan(30_000);
      const s = solo.scores().get(key('//Ferdie').address)!;
      expect(s.score).toBe(0);
      expect(s.detail.modalities.image.n + s.detail.modalities.video.n).toBeGreaterThanOrEqual(3);
    } finally {
      decliner.stop();
      await solo.close();
      own.close();
    }
  }, 60_000);

  it('a connect/drop storm, a slow miner and a silent one do not cost an honest miner its answers', async () => {
    const honest = miners[0]!;
    const slow = new NodeMiner({ url, signer: key('//Ferdie'), netuid: 7, behaviour: 'random', answerDelayMs: 1500 });
    miners.push(slow);
    await slow.start();
    const startRound = server.roundsRun;
    // 150 clients that connect and vanish mid-handshake or right after auth, 10 at a time, from 10 loopback
    // addresses (one address opening 150 connections in a second is refused with 4006; the limit has its own test).
    let storm = 0;
    for (let wave = 0; wave < 15; wave++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          return new Promise<void>((done) => {
            const ws = new WebSocket(url, { localAddress: hostileAddress(i) });
            ws.on('message', (data) => {
              const m = decodeText(data.toString());
              if (m.ok && m.message.type === 'hello' && i % 2 === 0)
                ws.send(encode(signAuth(key('//Charlie'), m.message, Date.now())));
              storm++;
              ws.terminate();
            });
            ws.on('close', () => done());
            ws.on('error', () => done());
          });
        }),
      );
    }
    expect(storm).toBeGreaterThanOrEqual(150);
    await until(() => server.roundsRun >= startRound + 4, 60_000, '4 more rounds');
    const since = store.db
      .prepare('SELECT outcome, COUNT(*) AS n FROM answers WHERE hotkey = ? GROUP BY outcome')
      .all(key('//Bob').address) as Array<{ outcome: string; n: number }>;
    // The honest miner answered every challenge it was sent: no timeouts, no invalid answers.
    expect(since.filter((r) => r.outcome !== 'ok')).toEqual([]);
    expect(honest.answered).toBeGreaterThanOrEqual(12);
  }, 120_000);

  it('survives 10,000 hostile frames while honest miners keep being served', async () => {
    const before = miners[0]!.answered;
    let sent = 0;
    let dialled = 0;
    const hostile = (frames: (hello: HelloMessage) => Array<string | Buffer>, authAs?: string) =>
      new Promise<void>((done) => {
        // Spread over loopback addresses so the per-address handshake limit does not refuse them before they speak.
        const ws = new WebSocket(url, { localAddress: hostileAddress(dialled++) });
        ws.on('message', (data, isBinary) => {
          if (isBinary) return;
          const m = decodeText(data.toString());
          if (!m.ok || m.message.type !== 'hello') return;
          const hello = m.message;
          if (authAs) ws.send(encode(signAuth(key(authAs), hello, Date.now())));
          for (const f of frames(hello)) {
            if (ws.readyState !== WebSocket.OPEN) break;
            ws.send(f);
            sent++;
          }
          setTimeout(() => ws.close(), 50);
        });
        ws.on('close', () => done());
        ws.on('error', () => done());
      });
    const garbage = [
      'not json',
      '{}',
      '[]',
      'null',
      '{"v":2}',
      '{"v":3,"type":"auth"}',
      '{"v":2,"type":"warp"}',
      '{"v":2,"type":"answer","id":5,"probabilities":"x"}',
      'x'.repeat(70 * 1024),
      JSON.stringify({
        v: 2,
        type: 'auth',
        hotkey: key('//Bob').address,
        timestamp: Date.now(),
        signature: `0x${'ab'.repeat(64)}`,
      }),
    ];
    // Unauthenticated: every fatal kind, each on its own connection (the validator closes on the first).
    for (let i = 0; i < 40; i++) {
      await hostile(() => [garbage[i % garbage.length]!]);
      await hostile(() => [Buffer.from([0, 0, 0, 9, 1, 2, 3])]);
    }
    // A replayed auth (signed for another connection's nonce) and a stale one.
    await hostile((hello) => [encode(signAuth(key('//Bob'), { ...hello, nonce: '0'.repeat(64) }, Date.now()))]);
    await hostile((hello) => [encode(signAuth(key('//Bob'), hello, Date.now() - 120_000))]);
    // Authenticated as a registered hotkey: hostile answers by the thousand (non-fatal each, until the message rate
    // limit closes the connection with 4006).
    await hostile(() => {
      const out: string[] = [];
      for (let i = 0; out.length < 10_000; i++) {
        const id = i % 2 ? `other-${i}` : `${(i * 2654435761) >>> 0}`;
        const p = i % 3 === 0 ? [0.5, 0.5, 0.1] : i % 3 === 1 ? [Number.NaN, 0.5, 0.5] : [0.2, 0.3, 0.5];
        out.push(`{"v":${PROTOCOL_VERSION},"type":"answer","id":"${id}","probabilities":${JSON.stringify(p)}}`);
      }
      return out;
    }, '//Ferdie');
    expect(sent).toBeGreaterThanOrEqual(10_000);
    await until(() => miners[0]!.answered >= before + 3, 60_000, 'the honest miner to keep answering');
    expect(store.integrityOk()).toBe(true);
    expect(server.connected()).toContain(key('//Bob').address);
  }, 120_000);
});
