// The JSON-RPC client over real WebSockets on loopback (the `ws` package: Node 20 has no WebSocket global): a server
// answering the four methods from a FakeChain's storage, one that accepts and never answers, and a closed port.
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { readNetworkModel } from './chain.js';
import { FakeChain } from './fake-chain.js';
import { chainEndpointProblem } from '../settings.js';
import { RpcClient, type SocketLike, withChain } from './rpc.js';

const socket = (url: string) => new WebSocket(url) as unknown as SocketLike;
const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A node answering state_* from `chain` (and logging every method asked, to show nothing else is). */
async function node(chain: FakeChain, answer = true): Promise<{ url: string; methods: string[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((ok) => wss.once('listening', ok));
  const methods: string[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as { id: number; method: string; params: unknown[] };
      methods.push(m.method);
      if (!answer) return;
      void (async () => {
        let result: unknown;
        if (m.method === 'chain_getBlockHash') result = await chain.head();
        else if (m.method === 'state_getKeysPaged') {
          const [prefix, count, start] = m.params as [string, number, string | null];
          const all = await chain.keys(prefix);
          result = all.filter((k) => start === null || k > start).slice(0, count);
        } else if (m.method === 'state_queryStorageAt') {
          const keys = m.params[0] as string[];
          const values = await chain.values(keys);
          result = [{ block: await chain.head(), changes: keys.map((k, i) => [k, values[i]]) }];
        } else {
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } }));
          return;
        }
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      })();
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, methods };
}

describe('the chain client (JSON-RPC over a WebSocket)', () => {
  it('reads the metagraph and commitments with four read-only methods', async () => {
    const chain = new FakeChain();
    const hotkey = chain.miner(2, 1, 0xb1, { sha256: 'cd'.repeat(32), version: '2.0.0', url: 'https://m.example/b/' });
    chain.incentive(2, [0, 65535]);
    const n = await node(chain);
    const read = await withChain(n.url, { socket }, (r) => readNetworkModel(r, 2));
    expect(read.pick).toMatchObject({ ok: true, uid: 1, hotkey, incentive: 1, model: { version: '2.0.0' } });
    expect(new Set(n.methods)).toEqual(new Set(['chain_getBlockHash', 'state_getKeysPaged', 'state_queryStorageAt']));
  });

  it('pages through more keys than one state_getKeysPaged answer holds', async () => {
    const chain = new FakeChain();
    for (let uid = 0; uid < 1500; uid++) chain.miner(3, uid, uid % 250);
    chain.incentive(3, []);
    const n = await node(chain);
    const read = await withChain(n.url, { socket }, (r) => readNetworkModel(r, 3));
    expect(read.candidates).toHaveLength(1500);
    expect(n.methods.filter((m) => m === 'state_getKeysPaged').length).toBe(3); // 1000 + 500 uids, 0 commitments
  });

  it('an unreachable chain is E_CHAIN_UNREACHABLE; a silent one E_CHAIN_TIMEOUT; a chain error E_CHAIN_DATA', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe: Server = createServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((ok) => probe.close(ok));
    await expect(withChain(`ws://127.0.0.1:${port}`, { socket }, (r) => r.head())).rejects.toMatchObject({
      code: 'E_CHAIN_UNREACHABLE',
    });

    const silent = await node(new FakeChain(), false);
    const t0 = Date.now();
    await expect(withChain(silent.url, { socket, timeoutMs: 300 }, (r) => r.head())).rejects.toMatchObject({
      code: 'E_CHAIN_TIMEOUT',
      message: expect.stringMatching(/chain_getBlockHash got no answer .* within 300 ms/),
    });
    expect(Date.now() - t0).toBeLessThan(5000);

    const n = await node(new FakeChain());
    const client = await RpcClient.connect(n.url, { socket });
    await expect(client.call('author_submitExtrinsic', [])).rejects.toMatchObject({
      code: 'E_CHAIN_DATA',
      message: /Method not found/,
    });
    client.close();
    await expect(client.call('chain_getBlockHash', [])).rejects.toMatchObject({ code: 'E_CHAIN_UNREACHABLE' });
    await expect(withChain('http://127.0.0.1:1/', { socket }, (r) => r.head())).rejects.toMatchObject({
      code: 'E_CHAIN_UNREACHABLE',
    });
  });

  it('accepts only ws:// and wss:// endpoints without credentials', () => {
    expect(chainEndpointProblem('wss://entrypoint.example:443')).toBeUndefined();
    expect(chainEndpointProblem('ws://127.0.0.1:9944')).toBeUndefined();
    expect(chainEndpointProblem('https://x.example')).toMatch(/ws:\/\/ or wss:\/\//);
    expect(chainEndpointProblem('wss://u:p@x.example')).toMatch(/credentials/);
    expect(chainEndpointProblem('nope')).toMatch(/not a URL/);
  });
});
