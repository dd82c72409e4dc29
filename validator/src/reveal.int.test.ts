// Integration: label commitments end to end. A real validator (real dataset, sharp, SQLite) and real Node reference
// miners over real WebSockets: every challenge carries a commitment and no label; after each reveal window the
// miners verify the revealed labels and salts. One miner is reached through a relay that changes a revealed label
// on the way: a validator that relabels after the fact cannot be made from the real one, so the relay stands in
// for it (the only stand-in here), and the miner must catch it and report it back.
import type { AddressInfo } from 'node:net';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { decodeText, encode, type Message } from '@veracity/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type MinerEvent, NodeMiner } from './miner/node-miner.js';
import { ValidatorServer } from './server.js';
import type { Metrics } from './status/metrics.js';
import type { Store } from './store.js';
import { until } from './test-support/helpers.js';
import { startTestValidator, type TestValidator } from './test-support/validator.js';

/** Forwards every frame both ways; text frames from the validator pass through `rewrite` first. */
async function relay(
  upstream: string,
  rewrite: (m: Message) => Message,
): Promise<{ url: string; close: () => Promise<void>; seen: Message[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const seen: Message[] = [];
  wss.on('connection', (client) => {
    const up = new WebSocket(upstream);
    const queue: Array<[RawData, boolean]> = [];
    up.on('open', () => queue.splice(0).forEach(([d, b]) => up.send(d, { binary: b })));
    client.on('message', (d, b) => (up.readyState === WebSocket.OPEN ? up.send(d, { binary: b }) : queue.push([d, b])));
    up.on('message', (d, isBinary) => {
      if (isBinary) return client.send(d, { binary: true });
      const m = decodeText(d.toString());
      if (!m.ok) return client.send(d.toString());
      seen.push(m.message);
      client.send(encode(rewrite(m.message)));
    });
    const end = () => {
      client.close();
      up.close();
    };
    client.on('close', end);
    up.on('close', end);
  });
  await new Promise((ok) => wss.once('listening', ok));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    seen,
    close: () =>
      new Promise<void>((ok) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => ok());
      }),
  };
}

describe('label commitments and reveals (real validator, real miners, real sockets)', () => {
  const keyring = new Keyring({ type: 'sr25519' });
  const key = (uri: string) => keyring.addFromUri(uri);
  let server: ValidatorServer;
  let v: TestValidator;
  let store: Store;
  let metrics: Metrics;
  let proxy: Awaited<ReturnType<typeof relay>>;
  const events = new Map<string, MinerEvent[]>();
  const miners: NodeMiner[] = [];

  beforeAll(async () => {
    await cryptoWaitReady();
    v = await startTestValidator('reveal-test', { heartbeatMs: 1000, revealEveryRounds: 3 });
    ({ server, store, metrics } = v);
    const url = v.url;
    // The tampering relay: the first item of every reveal gets another label (salt untouched).
    proxy = await relay(url, (m) =>
      m.type === 'reveal'
        ? { ...m, items: m.items.map((x, i) => (i === 0 ? { ...x, label: x.label === 'real' ? 'synthetic' : 'real' } : x)) }
        : m,
    );
    const mk = (uri: string, via: string) => {
      const list: MinerEvent[] = [];
      events.set(uri, list);
      const m = new NodeMiner({
        url: via,
        signer: key(uri),
        netuid: 7,
        behaviour: 'random',
        onEvent: (e) => list.push(e),
      });
      miners.push(m);
      return m;
    };
    await Promise.all([mk('//Bob', url), mk('//Charlie', proxy.url)].map((m) => m.start()));
    await until(() => server.roundsRun >= 7, 60_000, '7 rounds (two reveal windows)');
    await until(
      () => [...events.values()].every((l) => l.filter((e) => e.type === 'reveal').length >= 2),
      20_000,
      'two reveals at each miner',
    );
  }, 90_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await v.close();
    await proxy.close();
  });

  it('commit -> reveal -> verified: an honest validator opens every commitment, with the labels it scored', () => {
    const bob = miners[0]!;
    const audit = bob.audit.snapshot();
    expect(audit.revealed).toBeGreaterThanOrEqual(6);
    expect(audit.verified).toBe(audit.revealed);
    expect(audit.mismatched).toBe(0);
    // What was revealed is what the validator stored and scored against.
    const labelOf = store.db.prepare('SELECT label FROM challenges WHERE id = ?');
    for (const [id, label] of bob.revealed) expect((labelOf.get(id) as { label: string }).label).toBe(label);
  });

  it('no message carries a label before the challenge closed, and each miner of a round gets its own challenge', () => {
    const closed = new Set<string>();
    for (const m of proxy.seen) {
      if (m.type === 'result') closed.add(m.id);
      if (m.type === 'reveal') for (const x of m.items) expect(closed.has(x.id), `${x.id} revealed before its result`).toBe(true);
      else expect(JSON.stringify(m)).not.toMatch(/"label"|"correct"|"score"/);
    }
    const charlieIds = new Set(proxy.seen.flatMap((m) => (m.type === 'challenge' ? [m.id] : [])));
    const bobIds = [...miners[0]!.revealed.keys()];
    // Charlie may have joined a round or two after Bob: count what it was sent, not the rounds run.
    expect(charlieIds.size).toBeGreaterThanOrEqual(Math.max(2, miners[1]!.audit.snapshot().revealed));
    expect(bobIds.length).toBeGreaterThanOrEqual(2);
    expect(bobIds.filter((id) => charlieIds.has(id))).toEqual([]);
  });

  it('a tampered reveal is caught by the miner and reported back to the validator (E_REVEAL_MISMATCH)', async () => {
    const charlie = miners[1]!;
    const reveals = events.get('//Charlie')!.filter((e) => e.type === 'reveal');
    // One changed label per reveal message, each caught; everything else verifies.
    for (const r of reveals) expect(r.mismatched).toHaveLength(1);
    const audit = charlie.audit.snapshot();
    expect(audit.mismatched).toBe(reveals.length);
    expect(audit.verified).toBe(audit.revealed - reveals.length);
    // The reports travel back over the socket: poll the validator's counter until they are in.
    const count = async () =>
      Number(
        /veracity_reveal_mismatches_total (\d+)/.exec(
          await metrics.registry.getSingleMetricAsString('veracity_reveal_mismatches_total'),
        )?.[1] ?? 0,
      );
    const end = Date.now() + 5000;
    while ((await count()) < reveals.length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(await count()).toBeGreaterThanOrEqual(reveals.length);
  });
});
