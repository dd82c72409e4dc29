// Test support: a chain as a map of raw storage, and the SCALE encoders of what the runtime stores, for the network
// core's unit tests (chain.test.ts, rpc.test.ts). Not shipped: nothing in the extension imports it.
import { encodeModelCommitment, type ModelCommitment } from '@veracity/protocol/model-commitment';
import { type ChainReader, COMMITMENT_OF_PREFIX, fromHex, INCENTIVE_PREFIX, KEYS_PREFIX, toHex, u16Key } from './chain.js';

/** SCALE of a Registration, the way the runtime stores what encodeModelCommitment asks it to. */
export function encodeRegistration(c: ModelCommitment, block = 7): string {
  const out: number[] = [...new Array<number>(8).fill(0), block & 0xff, (block >> 8) & 0xff, 0, 0];
  const { fields } = encodeModelCommitment(c);
  out.push(fields.length << 2);
  for (const f of fields) {
    const [kind, hex] = Object.entries(f)[0]!;
    const bytes = fromHex(hex as string);
    out.push(kind === 'Sha256' ? 131 : bytes.length + 1, ...bytes);
  }
  return toHex(new Uint8Array(out));
}

export function encodeIncentive(values: number[]): string {
  const out = [values.length << 2];
  for (const v of values) out.push(v & 0xff, v >> 8);
  return toHex(new Uint8Array(out));
}

/** A chain as a map of raw storage: what state_getKeysPaged / state_queryStorageAt read, without the transport. */
export class FakeChain implements ChainReader {
  readonly storage = new Map<string, string>();
  head(): Promise<string> {
    return Promise.resolve('0x' + '11'.repeat(32));
  }
  keys(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.storage.keys()].filter((k) => k.startsWith(prefix)).sort());
  }
  values(keys: string[]): Promise<Array<string | null>> {
    return Promise.resolve(keys.map((k) => this.storage.get(k) ?? null));
  }
  /** A miner at `uid` with `hotkey` (one byte repeated), optionally publishing `model`. */
  miner(netuid: number, uid: number, hotkeyByte: number, model?: ModelCommitment | string): string {
    const hotkey = '0x' + hotkeyByte.toString(16).padStart(2, '0').repeat(32);
    this.storage.set(KEYS_PREFIX + u16Key(netuid).slice(2) + u16Key(uid).slice(2), hotkey);
    if (model !== undefined) {
      // Twox64Concat(account): 8 hash bytes (any, the reader takes the account from the key's end) then the account.
      const key = COMMITMENT_OF_PREFIX + u16Key(netuid).slice(2) + 'ee'.repeat(8) + hotkey.slice(2);
      this.storage.set(key, typeof model === 'string' ? model : encodeRegistration(model));
    }
    return hotkey;
  }
  incentive(netuid: number, values: number[]): void {
    this.storage.set(INCENTIVE_PREFIX + u16Key(netuid).slice(2), encodeIncentive(values));
  }
}
