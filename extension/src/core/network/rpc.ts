/**
 * A small JSON-RPC client over one WebSocket: the only chain access the extension has. Three read-only methods
 * (chain_getBlockHash, state_getKeysPaged, state_queryStorageAt); no subscriptions, no signing, no metadata download.
 * Every request has a timeout, and a chain that cannot be reached or does not answer is a clear error
 * (E_CHAIN_UNREACHABLE, E_CHAIN_TIMEOUT) for the caller to show while keeping the bundle it has.
 * Platform-free: the WebSocket constructor is the browser's (or `ws` in Node tests).
 */
import { ExtensionError, ExtensionErrorCode, messageOf } from '../errors.js';
import { chainEndpointProblem } from '../settings.js';
import type { ChainReader } from './chain.js';

/** What the client needs of a WebSocket (the DOM's, or the `ws` package's, which has the same surface). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface RpcOptions {
  /** Longest wait for the connection and for each answer (default 10 s). */
  timeoutMs?: number;
  socket?: SocketFactory;
}

/** Largest answer read (a page of 1000 keys is ~150 kB): anything bigger is not an answer to our questions. */
const MAX_MESSAGE_CHARS = 8 * 1024 * 1024;
/** Keys asked for per state_getKeysPaged call. */
const PAGE = 1000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly socket: SocketLike,
    readonly endpoint: string,
    private readonly timeoutMs: number,
  ) {
    socket.onmessage = (ev) => this.onMessage(ev.data);
    socket.onclose = () =>
      this.failAll(new ExtensionError(ExtensionErrorCode.ChainUnreachable, `${endpoint} closed the connection`));
    socket.onerror = () => undefined;
  }

  /** Opens the socket, or fails with E_CHAIN_UNREACHABLE / E_CHAIN_TIMEOUT. */
  static connect(endpoint: string, options: RpcOptions = {}): Promise<RpcClient> {
    const problem = chainEndpointProblem(endpoint);
    if (problem) return Promise.reject(new ExtensionError(ExtensionErrorCode.ChainUnreachable, problem));
    const timeoutMs = options.timeoutMs ?? 10_000;
    const factory: SocketFactory =
      options.socket ?? ((url) => new (globalThis as unknown as { WebSocket: new (u: string) => SocketLike }).WebSocket(url));
    return new Promise((resolve, reject) => {
      let socket: SocketLike;
      try {
        socket = factory(endpoint);
      } catch (e) {
        reject(new ExtensionError(ExtensionErrorCode.ChainUnreachable, `cannot open ${endpoint}: ${messageOf(e)}`));
        return;
      }
      const timer = setTimeout(() => {
        socket.onclose = socket.onerror = socket.onopen = null;
        socket.close();
        reject(
          new ExtensionError(ExtensionErrorCode.ChainTimeout, `${endpoint} did not accept a connection within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(new RpcClient(socket, endpoint, timeoutMs));
      };
      const unreachable = () => {
        clearTimeout(timer);
        socket.onclose = socket.onerror = socket.onopen = null;
        reject(new ExtensionError(ExtensionErrorCode.ChainUnreachable, `cannot connect to ${endpoint}`));
      };
      socket.onerror = unreachable;
      socket.onclose = unreachable;
    });
  }

  call<T>(method: string, params: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new ExtensionError(ExtensionErrorCode.ChainUnreachable, `${this.endpoint} is closed`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ExtensionError(
            ExtensionErrorCode.ChainTimeout,
            `${method} got no answer from ${this.endpoint} within ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ExtensionError(ExtensionErrorCode.ChainUnreachable, `cannot send to ${this.endpoint}: ${messageOf(e)}`));
      }
    });
  }

  close(): void {
    this.closed = true;
    this.failAll(new ExtensionError(ExtensionErrorCode.ChainUnreachable, 'the client was closed'));
    this.socket.onclose = null;
    this.socket.close();
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array) && !(data instanceof ArrayBuffer)) return;
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
    if (text.length > MAX_MESSAGE_CHARS) return;
    let m: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error) {
      p.reject(new ExtensionError(ExtensionErrorCode.ChainData, `the chain refused: ${String(m.error.message ?? m.error.code)}`));
    } else p.resolve(m.result);
  }

  private failAll(error: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }
}

const isHex = (v: unknown): v is string => typeof v === 'string' && /^0x[0-9a-fA-F]*$/.test(v);

function expectHex(v: unknown, what: string): string {
  if (!isHex(v))
    throw new ExtensionError(ExtensionErrorCode.ChainData, `${what}: expected hex, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

/** The ChainReader the network core reads through, over an open client. */
export function rpcChainReader(client: RpcClient): ChainReader {
  return {
    async head() {
      return expectHex(await client.call('chain_getBlockHash', []), 'chain_getBlockHash');
    },
    async keys(prefix, at) {
      const out: string[] = [];
      let start: string | null = null;
      for (;;) {
        const page = await client.call<unknown>('state_getKeysPaged', [prefix, PAGE, start, at]);
        if (!Array.isArray(page))
          throw new ExtensionError(ExtensionErrorCode.ChainData, 'state_getKeysPaged did not answer a list');
        for (const k of page) out.push(expectHex(k, 'a storage key'));
        if (page.length < PAGE) return out;
        start = out[out.length - 1]!;
      }
    },
    async values(keys, at) {
      if (keys.length === 0) return [];
      const sets = await client.call<unknown>('state_queryStorageAt', [keys, at]);
      const changes = Array.isArray(sets) ? (sets[0] as { changes?: unknown } | undefined)?.changes : undefined;
      if (!Array.isArray(changes))
        throw new ExtensionError(ExtensionErrorCode.ChainData, 'state_queryStorageAt did not answer changes');
      const byKey = new Map<string, string | null>();
      for (const c of changes) {
        if (Array.isArray(c) && isHex(c[0])) byKey.set(c[0].toLowerCase(), isHex(c[1]) ? c[1] : null);
      }
      return keys.map((k) => byKey.get(k.toLowerCase()) ?? null);
    },
  };
}

/** Connects, runs `fn` with a reader, and closes whatever happens. */
export async function withChain<T>(endpoint: string, options: RpcOptions, fn: (reader: ChainReader) => Promise<T>): Promise<T> {
  const client = await RpcClient.connect(endpoint, options);
  try {
    return await fn(rpcChainReader(client));
  } finally {
    client.close();
  }
}
