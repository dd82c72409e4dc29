/**
 * Submitting extrinsics and turning what the chain says back into errors a person can read: dispatch errors are
 * decoded through the metadata into `Section.Name: docs`, including the results hidden inside `sudo` and
 * `utility.batch` events, and pool rejections ("1010: Invalid Transaction") are told apart from transport failures.
 */
// One backoff policy for every retry in the project: the protocol's (exponential, full jitter).
import { backoffDelay } from '@veracity/protocol';
import type { ApiPromise, SubmittableResult } from '@polkadot/api';
import type { SubmittableExtrinsic, SubmittableExtrinsicFunction } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';

type TxFactory = SubmittableExtrinsicFunction<'promise'>;

/**
 * `api.tx[section][method]`, or a clear error when this runtime lacks it (the subtensor pallets are not in
 * @polkadot/api's type augmentation, so every access goes through here).
 */
export function txCall(api: ApiPromise, section: string, method: string): TxFactory {
  const fn = (api.tx as unknown as Record<string, Record<string, TxFactory> | undefined>)[section]?.[method];
  if (!fn)
    throw new Error(`this runtime has no ${section}.${method} extrinsic (spec ${api.runtimeVersion.specVersion.toString()})`);
  return fn;
}

/** Whether the runtime has `api.tx[section][method]`. */
export function hasTx(api: ApiPromise, section: string, method: string): boolean {
  return Boolean((api.tx as unknown as Record<string, Record<string, unknown> | undefined>)[section]?.[method]);
}

/** Send a raw RPC request (e.g. chopsticks' dev_* methods, which @polkadot/api does not decorate). */
export function rawRpc<T = unknown>(api: ApiPromise, method: string, params: unknown[]): Promise<T> {
  const core = (api as unknown as { _rpcCore: { provider: { send(m: string, p: unknown[]): Promise<T> } } })._rpcCore;
  return core.provider.send(method, params);
}

export interface DecodedError {
  /** Pallet (e.g. 'SubtensorModule'), or the error kind for non-module errors (e.g. 'BadOrigin'). */
  section: string;
  /** Error variant (e.g. 'SettingWeightsTooFast'). */
  name: string;
  docs: string;
  /** `Section.Name: docs` */
  text: string;
}

/** Decode a DispatchError into `Section.Name: docs` through the chain's metadata. */
export function decodeDispatchError(api: ApiPromise, err: DispatchError): DecodedError {
  if (err.isModule) {
    try {
      const meta = api.registry.findMetaError(err.asModule);
      const section = meta.section.charAt(0).toUpperCase() + meta.section.slice(1);
      const docs = meta.docs.join(' ').trim();
      return { section, name: meta.name, docs, text: `${section}.${meta.name}${docs ? `: ${docs}` : ''}` };
    } catch {
      const m = err.asModule;
      const text = `Module error ${m.index.toString()}/${m.error.toHex()}`;
      return { section: 'Module', name: 'Unknown', docs: '', text };
    }
  }
  const kind = err.type;
  let name: string = kind;
  const inner = (err as unknown as Record<string, { type?: string } | undefined>)[`as${kind}`];
  if (inner && typeof inner === 'object' && 'type' in inner && inner.type) name = inner.type;
  const text = name === kind ? kind : `${kind}.${name}`;
  return { section: kind, name, docs: '', text };
}

/** An extrinsic the chain refused or that failed inside a block. */
export class ChainTxError extends Error {
  constructor(
    message: string,
    /** Error variant name, e.g. 'SettingWeightsTooFast', or 'InvalidTransaction' for a pool rejection. */
    readonly code: string,
    readonly decoded: DecodedError | null,
    /** The bootstrap / caller step that failed, when known. */
    readonly step?: string,
    readonly blockHash?: string,
    /** Index of the failing call inside a utility.batch, when that is where it failed. */
    readonly batchIndex?: number,
  ) {
    super(message);
    this.name = 'ChainTxError';
  }
}

/** The websocket/RPC layer failed (not the chain saying no): safe to retry. */
export class TransportError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'TransportError';
  }
}

const TRANSPORT =
  /disconnected|not connected|WebSocket|ECONNREFUSED|ECONNRESET|socket hang up|No response received|timed out|Timeout|abnormal closure|EPIPE|connection/i;

/** Whether an error from @polkadot/api looks like a transport failure (worth a retry) rather than a chain verdict. */
export function isTransportError(e: unknown): boolean {
  if (e instanceof TransportError) return true;
  if (e instanceof ChainTxError) return false;
  const msg = String((e as Error)?.message ?? e);
  if (/^\s*10(10|11|12|13|14):/.test(msg) || /Invalid Transaction|Priority is too low|Transaction is outdated/i.test(msg)) {
    return false;
  }
  return TRANSPORT.test(msg);
}

export interface TxIncluded {
  blockHash: string;
  block: number;
  events: EventRecord[];
}

export interface SubmitOptions {
  /** Name of the step, carried into errors. */
  step?: string;
  /** Give up waiting for inclusion after this long (default 60 s). */
  timeoutMs?: number;
}

/** Find a failure hidden in events: sudo.Sudid(Err), sudo.SudoAsDone(Err), utility.BatchInterrupted, utility.ItemFailed. */
export function innerFailure(api: ApiPromise, events: EventRecord[]): { decoded: DecodedError; index?: number } | null {
  for (const { event } of events) {
    const { section, method, data } = event;
    if (section === 'sudo' && (method === 'Sudid' || method === 'SudoAsDone')) {
      const res = data[0] as unknown as { isErr: boolean; asErr: DispatchError };
      if (res?.isErr) return { decoded: decodeDispatchError(api, res.asErr) };
    }
    if (section === 'utility' && method === 'BatchInterrupted') {
      const index = (data[0] as unknown as { toNumber(): number }).toNumber();
      return { decoded: decodeDispatchError(api, data[1] as unknown as DispatchError), index };
    }
    if (section === 'utility' && method === 'ItemFailed') {
      return { decoded: decodeDispatchError(api, data[0] as unknown as DispatchError) };
    }
  }
  return null;
}

/**
 * Sign, submit and wait until the extrinsic is in a block. Resolves with the block and its events for this extrinsic;
 * rejects with ChainTxError (the chain refused it or it failed: decoded) or TransportError (the connection failed).
 */
export async function submitTx(
  api: ApiPromise,
  signer: KeyringPair,
  tx: SubmittableExtrinsic<'promise'>,
  opts: SubmitOptions = {},
): Promise<TxIncluded> {
  const step = opts.step;
  const prefix = step ? `${step}: ` : '';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let unsub: (() => void) | undefined;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<TxIncluded>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new TransportError(`${prefix}no inclusion after ${timeoutMs} ms (the chain may have dropped it)`)),
        timeoutMs,
      );
      const onResult = (result: SubmittableResult) => {
        const status = result.status;
        if (status.isInBlock || status.isFinalized) {
          const blockHash = (status.isInBlock ? status.asInBlock : status.asFinalized).toHex();
          if (result.dispatchError) {
            const decoded = decodeDispatchError(api, result.dispatchError);
            reject(new ChainTxError(`${prefix}${decoded.text}`, decoded.name, decoded, step, blockHash));
            return;
          }
          const inner = innerFailure(api, result.events);
          if (inner) {
            const d = inner.decoded;
            reject(new ChainTxError(`${prefix}${d.text}`, d.name, d, step, blockHash, inner.index));
            return;
          }
          api.rpc.chain
            .getHeader(blockHash)
            .then((h) => resolve({ blockHash, block: h.number.toNumber(), events: result.events }))
            .catch((e) => reject(new TransportError(`${prefix}${String((e as Error).message)}`, e)));
        } else if (status.isDropped || status.isInvalid || status.isUsurped || status.isRetracted) {
          reject(new ChainTxError(`${prefix}transaction ${status.type.toLowerCase()}`, status.type, null, step));
        } else if (!status.isReady && !status.isBroadcast && !status.isFuture && status.type !== 'Ready') {
          // chopsticks reports a failure while applying the extrinsic as an unknown status object
          const raw = JSON.stringify(status.toJSON());
          if (/outcome|error|invalid/i.test(raw)) reject(new ChainTxError(`${prefix}${raw}`, 'ApplyExtrinsicFailed', null, step));
        }
      };
      tx.signAndSend(signer, { nonce: -1 }, onResult)
        .then((u) => {
          // The result can arrive before the subscription handle: unsubscribe at once then, or the watch stays open
          // until the connection closes.
          if (settled) u();
          else unsub = u;
        })
        .catch((e: unknown) => {
          const msg = String((e as Error)?.message ?? e);
          if (isTransportError(e)) reject(new TransportError(`${prefix}${msg}`, e));
          else reject(new ChainTxError(`${prefix}the chain refused the transaction: ${msg}`, poolCode(msg), null, step));
        });
    });
  } finally {
    settled = true;
    if (timer) clearTimeout(timer);
    unsub?.();
  }
}

/** 'InvalidTransaction' for pool rejections, with the custom code when there is one. */
function poolCode(msg: string): string {
  const custom = /Custom error: (\d+)/i.exec(msg) ?? /"custom"\s*:\s*(\d+)/i.exec(msg);
  if (custom) return `InvalidTransaction.Custom(${custom[1]})`;
  if (/Invalid Transaction|"invalid"|^\s*1010:/i.test(msg)) return 'InvalidTransaction';
  return 'Rejected';
}

export interface RetryOptions {
  retries?: number;
  baseMs?: number;
  maxMs?: number;
  /** Called before each retry. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Run `fn`, retrying with exponential backoff + jitter only when it fails with a transport error. */
export async function retryTransport<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 4;
  const baseMs = opts.baseMs ?? 500;
  const maxMs = opts.maxMs ?? 15_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= retries || !isTransportError(e)) throw e;
      const delay = backoffDelay(attempt, { baseMs, maxMs, ...(opts.random ? { random: opts.random } : {}) });
      opts.onRetry?.(attempt + 1, delay, e);
      await sleep(delay);
    }
  }
}

/**
 * Build `count` blocks on a chopsticks endpoint (`dev_newBlock`); on a real node, where that RPC does not exist,
 * wait for `count` new heads instead. Returns the head number after.
 */
export async function advanceBlocks(api: ApiPromise, count: number): Promise<number> {
  if (count <= 0) return (await api.rpc.chain.getHeader()).number.toNumber();
  try {
    await rawRpc(api, 'dev_newBlock', [{ count }]);
    return (await api.rpc.chain.getHeader()).number.toNumber();
  } catch (e) {
    if (!/not found|does not exist|not supported|Method not found/i.test(String((e as Error).message))) throw e;
  }
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  return new Promise<number>((resolve, reject) => {
    let unsub: (() => void) | undefined;
    api.rpc.chain
      .subscribeNewHeads((h) => {
        const n = h.number.toNumber();
        if (n >= start + count) {
          unsub?.();
          resolve(n);
        }
      })
      .then((u) => (unsub = u), reject);
  });
}
