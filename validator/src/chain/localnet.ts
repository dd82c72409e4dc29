/**
 * A real subtensor runtime, offline: chopsticks runs the runtime wasm from a raw chain spec, serving a websocket
 * endpoint on 127.0.0.1, and `bootstrapSubnet` turns the fresh chain into a subnet with a validator and miners.
 *
 * Start-up traps handled here (see README.md):
 * - the runtime imports host functions chopsticks lacks (bls12_381): `allow-unresolved-imports`;
 * - chopsticks' own probe of `AuraApi_slot_duration` ignores that flag, fails and silently assumes 12000 ms, so the
 *   first block panics ("Timestamp slot must match CurrentSlot"): we read the real slot duration with `runTask`
 *   (unresolved imports allowed) and pre-seed chopsticks' memoised `getAuraSlotDuration` for that code;
 * - the spec has no `Timestamp.Now`, so the first block's slot comes from two clock reads that can straddle a slot
 *   boundary: we insert a slot-aligned `Timestamp.Now` into the genesis storage.
 */
import { existsSync } from 'node:fs';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';
import type { HexString } from '@polkadot/util/types';
import { shareMetadataByCode } from './chopsticks-patch.js';
import { CODE_KEY, defaultSpec, loadRawSpec, resolveSpecFile, slotAligned, TIMESTAMP_NOW_KEY, u64LeHex } from './spec.js';

// bootstrapSubnet lives in bootstrap.ts; re-exported here so the local-chain API is one import.
export { BootstrapError, bootstrapSubnet, findOwnedSubnet, sudoSetHyperparams } from './bootstrap.js';
export type { BootstrapOptions, BootstrapProgress, BootstrapResult } from './bootstrap.js';
export { advanceBlocks } from './tx.js';

export type ChopsticksLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface LocalnetOptions {
  /** Raw chain spec: a file path or an http(s) URL (default: VERACITY_CHAIN_SPEC or ../shared/chain/aura-dev-raw-293.json). */
  spec?: string;
  /** Expected sha256 of the spec file (checked when given; recommended for URLs). */
  specSha256?: string;
  /** Cache folder for downloaded specs. */
  cacheDir?: string;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. Note chopsticks moves up to 9 ports on when it is taken. */
  port?: number;
  /** SQLite file where chopsticks keeps blocks and storage (to restart a prepared chain with `resume`). */
  db?: string;
  /** Resume from the highest block in `db`. */
  resume?: boolean;
  /**
   * chopsticks' log level (default 'warn'). chopsticks reads it from LOG_LEVEL when it is first imported, so this
   * only applies when chopsticks has not been imported yet in this process, and an explicit LOG_LEVEL wins.
   */
  logLevel?: ChopsticksLogLevel;
}

export interface Localnet {
  /** ws://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** The runtime's real Aura slot duration (ms); every block advances the chain clock by this much. */
  slotDurationMs: number;
  /** Block number of the head when the chain came up. */
  startBlock: number;
  /** Build `count` empty blocks directly (same as the `dev_newBlock` RPC); returns the new head number. */
  newBlocks(count: number): Promise<number>;
  close(): Promise<void>;
}

let openLocalnets = 0;

type Chopsticks = typeof import('@acala-network/chopsticks');

/**
 * chopsticks is a development dependency (it brings typeorm, a second SQLite binding and node-gyp): a validator
 * installed for production (`npm install --omit=dev`) runs against a real chain and never loads it.
 */
async function importChopsticks(logLevel: ChopsticksLogLevel): Promise<Chopsticks> {
  process.env.LOG_LEVEL ??= logLevel;
  try {
    return await import('@acala-network/chopsticks');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new Error(
      'the local chain needs @acala-network/chopsticks, a development dependency of the validator: install with dev dependencies (npm ci, or bash scripts/setup.sh)',
      { cause: e },
    );
  }
}

/** Read the runtime's `AuraApi_slot_duration` itself, with unresolved imports allowed (chopsticks' probe does not). */
export async function readAuraSlotDuration(cs: Chopsticks, wasm: HexString, storage: Record<string, string>): Promise<number> {
  const result = await cs.runTask(
    {
      wasm,
      calls: [['AuraApi_slot_duration', []]],
      mockSignatureHost: false,
      allowUnresolvedImports: true,
      runtimeLogLevel: 0,
    },
    {
      ...cs.emptyTaskHandler,
      getStorage: async (key: HexString) => storage[key] as HexString | undefined,
      getNextKey: async (prefix: HexString, key: HexString) =>
        Object.keys(storage)
          .sort()
          .find((k) => k.startsWith(prefix) && k > key) as HexString | undefined,
    } as never,
  );
  if ('Error' in result) throw new Error(`AuraApi_slot_duration failed in the runtime: ${result.Error}`);
  const bytes = Buffer.from(result.Call.result.slice(2), 'hex');
  if (bytes.length < 8) throw new Error(`AuraApi_slot_duration returned ${result.Call.result}`);
  return Number(bytes.readBigUInt64LE(0));
}

/**
 * Runs `fn`, collecting every server that starts listening meanwhile. chopsticks does not hand out its HTTP server,
 * and its close() leaves upgraded websocket connections open (they are no longer the HTTP server's connections), so a
 * client never learns the chain went away; with the server in hand we track its sockets and end them on close, as a
 * node process that exits would.
 */
async function withListeningServers<T>(fn: () => Promise<T>): Promise<{ result: T; servers: NetServer[] }> {
  const servers: NetServer[] = [];
  const listen = NetServer.prototype.listen;
  NetServer.prototype.listen = function (this: NetServer, ...args: unknown[]) {
    servers.push(this);
    return (listen as (...a: unknown[]) => NetServer).apply(this, args);
  } as typeof listen;
  try {
    return { result: await fn(), servers };
  } finally {
    NetServer.prototype.listen = listen;
  }
}

/** Start chopsticks on a raw spec with every start-up trap handled. */
export async function startLocalnet(opts: LocalnetOptions = {}): Promise<Localnet> {
  const specFile = await resolveSpecFile(opts.spec ?? defaultSpec(), {
    sha256: opts.specSha256,
    cacheDir: opts.cacheDir,
  });
  const spec = loadRawSpec(specFile);
  const cs = await importChopsticks(opts.logLevel ?? 'warn');
  shareMetadataByCode(cs.Block);
  const top = spec.genesis.raw.top;
  const wasm = top[CODE_KEY] as HexString;

  const slotDurationMs = await readAuraSlotDuration(cs, wasm, top);
  // Pre-seed chopsticks' memoised probe so it never runs (and never falls back to 12000 ms). The block reads `:code`
  // back from the same genesis map, so the key is the same string; the lower-case form is there in case it is not.
  const cache = cs.getAuraSlotDuration.cache as unknown as Map<string, Promise<number>>;
  cache.set(wasm, Promise.resolve(slotDurationMs));
  cache.set(wasm.toLowerCase(), Promise.resolve(slotDurationMs));

  if (!top[TIMESTAMP_NOW_KEY]) top[TIMESTAMP_NOW_KEY] = u64LeHex(slotAligned(Date.now(), slotDurationMs));

  if (opts.resume && (!opts.db || !existsSync(opts.db))) {
    throw new Error(`nothing to resume: ${opts.db ? `${opts.db} does not exist` : 'no db file given'}`);
  }
  let server: Awaited<ReturnType<Chopsticks['setupWithServer']>>;
  let listening: NetServer[];
  try {
    ({ result: server, servers: listening } = await withListeningServers(() =>
      cs.setupWithServer({
        genesis: spec as never,
        host: '127.0.0.1',
        port: opts.port ?? 0,
        'build-block-mode': cs.BuildBlockMode.Instant,
        'allow-unresolved-imports': true,
        db: opts.db,
        resume: opts.resume ? true : undefined,
      } as never),
    ));
  } catch (e) {
    if (openLocalnets === 0) await cs.destroyWorker();
    throw e;
  }
  openLocalnets++;
  const port = Number(server.addr.split(':').pop());
  const sockets = new Set<Socket>();
  const http = listening.find((l) => l.listening && (l.address() as AddressInfo | null)?.port === port);
  http?.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      // A block's inclusion is announced before chopsticks saves it to the db: let pending builds and saves finish
      // before the db closes under them.
      await server.chain.upcomingBlocks().catch(() => 0);
      await new Promise((r) => setTimeout(r, 50));
      // As when a node process exits: no new connections, and the open ones drop (clients see 1006) before the
      // chain closes under them.
      http?.close();
      for (const socket of sockets) socket.destroy();
      await server.close();
    } finally {
      openLocalnets--;
      // The wasm executor is one worker thread per process; stop it once the last chain is gone so nothing
      // keeps the process alive.
      if (openLocalnets === 0) await cs.destroyWorker();
    }
  };
  try {
    const seen = await cs.getSlotDuration(server.chain.head);
    if (seen !== slotDurationMs) {
      throw new Error(`chopsticks sees a ${seen} ms slot, the runtime says ${slotDurationMs} ms: pre-seeding failed`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    endpoint: `ws://127.0.0.1:${port}`,
    port,
    slotDurationMs,
    startBlock: server.chain.head.number,
    async newBlocks(count: number) {
      for (let i = 0; i < count; i++) await server.chain.newBlock();
      return server.chain.head.number;
    },
    close,
  };
}
