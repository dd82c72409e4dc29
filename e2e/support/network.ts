/**
 * A subnet with two published bundles served over HTTP, for the extension's network model e2e: the real subtensor
 * runtime under chopsticks (startSubnet), two miners that commit their bundles with commitments.setCommitment
 * (//Bob: the untrained tiny fixture; //Charlie: the shipped detector), //Alice's weights ranking //Charlie first and
 * an epoch run so the chain's incentive says so. The bundles are served by a local HTTP server that can be made to
 * tamper with a file, and the chain is reached through a JSON-RPC relay that logs every method asked.
 * (h25c's validator/src/test-support helper for the same setup was not on main when this was written.)
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { bundleDigest, encodeModelCommitment } from '@veracity/protocol/model-commitment';
import { WebSocket, WebSocketServer } from 'ws';
import { advanceBlocks, setWeights, submitTx, txCall } from '@veracity/validator/chain';
import { startSubnet, type Subnet } from '@veracity/validator/test-support';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
export const BUNDLE_DIRS = { tiny: `${MODELS}fixtures/tiny/`, shipped: `${MODELS}bundle/` } as const;
export type BundleName = keyof typeof BUNDLE_DIRS;

export interface PublishedBundle {
  hotkey: string;
  uid: number;
  url: string;
  sha256: string;
  version: string;
  id: string;
}

export interface BundleServer {
  url: string;
  /** Every request: path and headers (to show no cookie or credentials go with a bundle download). */
  log: Array<{ path: string; headers: IncomingHttpHeaders }>;
  /** Serve `bytes` instead of the real file at `path` (e.g. '/shipped/manifest.json'); null restores it. */
  tamper(path: string, bytes: Buffer | null): void;
  close(): Promise<void>;
}

export async function serveBundles(): Promise<BundleServer> {
  const log: BundleServer['log'] = [];
  const tampered = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    log.push({ path, headers: req.headers });
    const [, name, file] = path.split('/') as [string, string, string];
    const dir = BUNDLE_DIRS[name as BundleName];
    if (!dir || !['manifest.json', 'model.onnx'].includes(file)) return void res.writeHead(404).end();
    const body = tampered.get(path) ?? readFileSync(dir + file);
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    log,
    tamper: (path, bytes) => (bytes ? tampered.set(path, bytes) : tampered.delete(path)),
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

export interface RpcRelay {
  endpoint: string;
  /** Every JSON-RPC method a client asked, in order. */
  methods: string[];
  close(): Promise<void>;
}

/** A WebSocket relay in front of the chain that records the JSON-RPC methods clients call through it. */
export async function rpcRelay(target: string): Promise<RpcRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((ok) => wss.once('listening', ok));
  const methods: string[] = [];
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target);
    const queued: string[] = [];
    upstream.on('open', () => queued.splice(0).forEach((m) => upstream.send(m)));
    upstream.on('message', (m: Buffer) => client.send(m.toString()));
    upstream.on('close', () => client.close());
    upstream.on('error', () => client.close());
    client.on('message', (m: Buffer) => {
      const text = m.toString();
      try {
        methods.push(String((JSON.parse(text) as { method?: unknown }).method));
      } catch {
        methods.push('(not JSON)');
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else queued.push(text);
    });
    client.on('close', () => upstream.close());
  });
  return {
    endpoint: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    methods,
    close: () =>
      new Promise<void>((ok) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => ok());
      }),
  };
}

export interface PublishedSubnet {
  subnet: Subnet;
  netuid: number;
  bundles: Record<BundleName, PublishedBundle>;
  server: BundleServer;
  /** The chain endpoint to give the extension (the logging relay). */
  relay: RpcRelay;
  /** Incentive per uid after the epoch, [0, 1]. */
  incentive: number[];
  close(): Promise<void>;
}

/** The subnet, both bundles published, //Alice's weights favouring the shipped detector, and one epoch run. */
export async function subnetWithTwoBundles(): Promise<PublishedSubnet> {
  const keyring = new Keyring({ type: 'sr25519' });
  const miners: Record<BundleName, string> = { tiny: '//Bob', shipped: '//Charlie' };
  const [subnet, server] = await Promise.all([startSubnet(Object.values(miners)), serveBundles()]);
  const { api } = subnet;
  const netuid = subnet.boot.netuid;
  const bundles = {} as Record<BundleName, PublishedBundle>;
  for (const name of Object.keys(miners) as BundleName[]) {
    const pair = keyring.addFromUri(miners[name]);
    const manifestBytes = readFileSync(BUNDLE_DIRS[name] + 'manifest.json');
    const manifest = JSON.parse(manifestBytes.toString()) as { id: string; version: string };
    const b: PublishedBundle = {
      hotkey: '0x' + Buffer.from(pair.publicKey).toString('hex'),
      uid: subnet.uidOf(pair.address),
      url: `${server.url}${name}/`,
      sha256: bundleDigest(manifestBytes),
      version: manifest.version,
      id: manifest.id,
    };
    await submitTx(api, pair, txCall(api, 'commitments', 'setCommitment')(netuid, encodeModelCommitment(b)), {
      step: `publish ${name}`,
    });
    bundles[name] = b;
  }
  const alice = keyring.addFromUri('//Alice');
  const weights = [
    [bundles.tiny.uid, 20000],
    [bundles.shipped.uid, 65535],
  ].sort((a, b) => a[0]! - b[0]!);
  const set = await setWeights(
    api,
    alice,
    netuid,
    weights.map((x) => x[0]!),
    weights.map((x) => x[1]!),
    1_000_000_000n,
  );
  if (!set.ok) throw new Error(`setting weights failed: ${set.explanation}`);
  // The epoch runs every tempo + 1 blocks (tempo 10 on the bootstrapped subnet): 12 blocks include one.
  await advanceBlocks(api, 12);
  const incentive = ((await api.query.subtensorModule!.incentive!(netuid)).toJSON() as number[]).map((v) => v / 65535);
  const relay = await rpcRelay(subnet.net.endpoint);
  return {
    subnet,
    netuid,
    bundles,
    server,
    relay,
    incentive,
    close: async () => {
      await relay.close();
      await server.close();
      await subnet.close();
    },
  };
}
