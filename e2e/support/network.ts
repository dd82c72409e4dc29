/**
 * For the extension's network-model e2e: a JSON-RPC relay in front of the local chain that logs every method a client
 * asks, so the privacy test can show the extension only read. The chain, the published bundles and the validator
 * rounds that rank them come from @veracity/validator/test-support (startPublishedSubnet, rankBundles); a tampered
 * download is made by the recording proxy (RecordingProxy.tamper).
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

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
