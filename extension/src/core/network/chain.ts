/**
 * What the extension reads from the chain to follow the network: the subnet's metagraph (uid -> hotkey, incentive)
 * and the miners' model commitments, decoded by hand from raw storage (SCALE). Pure: the caller passes a ChainReader
 * (the JSON-RPC client in rpc.ts in the extension, anything else in tests), so the reading and the selection are
 * unit-tested in Node without a chain.
 *
 * Storage layout, measured on the local runtime (spec 293) with @polkadot/api's metadata (hashers and types):
 *   SubtensorModule.Keys          double map Identity(u16 netuid), Identity(u16 uid) -> AccountId32 (the hotkey)
 *   SubtensorModule.Incentive     map Identity(u16 netuid) -> Vec<u16> (per uid, / 65535)
 *   Commitments.CommitmentOf      double map Identity(u16 netuid), Twox64Concat(AccountId32) -> Registration
 *     Registration { deposit: u64, block: u32, info: { fields: BoundedVec<Data> } }
 *     Data: 0 None, 1..=129 Raw(len = index - 1), 130 BlakeTwo256, 131 Sha256, 132 Keccak256, 133 ShaThree256
 * The prefixes are twox128(pallet) ++ twox128(item), fixed for these names (chain.test.ts recomputes them).
 */
import {
  decodeModelCommitment,
  type ModelCandidate,
  type ModelPick,
  pickNetworkModel,
  type PublishedModel,
} from '@veracity/protocol/model-commitment';
import { ExtensionError, ExtensionErrorCode } from '../errors.js';

export const KEYS_PREFIX = '0x658faa385070e074c85bf6b568cf05559f99a2ce711f3a31b2fc05604c93f179';
export const INCENTIVE_PREFIX = '0x658faa385070e074c85bf6b568cf055589c69c2c416b8105d37501394f4de849';
export const COMMITMENT_OF_PREFIX = '0xca407206ec1ab726b2636c4b145ac287419a60ae8b01e6dcaebd7317e43c69bf';

/** The least a chain client offers: raw storage by key and the keys under a prefix, all read at one block. */
export interface ChainReader {
  /** The block every read of one check is pinned to (its hash). */
  head(): Promise<string>;
  /** Every storage key starting with `prefix` (hex), at block `at`. */
  keys(prefix: string, at: string): Promise<string[]>;
  /** The SCALE bytes (hex) stored at each key, null where nothing is, in the order asked. */
  values(keys: string[], at: string): Promise<Array<string | null>>;
}

export function fromHex(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw bad(`not hex: ${hex.slice(0, 20)}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function bad(message: string): ExtensionError {
  return new ExtensionError(ExtensionErrorCode.ChainData, message);
}

/** The SCALE encoding of a u16 (little-endian), which is also its Identity-hashed map key. */
export function u16Key(n: number): string {
  return toHex(new Uint8Array([n & 0xff, (n >> 8) & 0xff]));
}

/** A SCALE reader over bytes: throws E_CHAIN_DATA when the bytes end early. */
class Scale {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw bad(`SCALE data ends at byte ${this.bytes.length}, wanted ${this.at + n}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  uint(n: number): number {
    const b = this.take(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i]!;
    return v;
  }
  compact(): number {
    const b0 = this.bytes[this.at];
    if (b0 === undefined) throw bad('SCALE data ends before a length');
    switch (b0 & 3) {
      case 0:
        return this.u8() >> 2;
      case 1:
        return this.uint(2) >> 2;
      case 2:
        return Math.floor(this.uint(4) / 4);
      default:
        throw bad('a length above 2^30 is not a list the extension reads');
    }
  }
  done(): boolean {
    return this.at === this.bytes.length;
  }
}

/** Vec<u16> (the per-uid incentive), each divided by 65535. */
export function decodeIncentive(hex: string | null): number[] {
  if (hex === null) return [];
  const s = new Scale(fromHex(hex));
  const n = s.compact();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(s.uint(2) / 65535);
  if (!s.done()) throw bad('the incentive vector has trailing bytes');
  return out;
}

const HASH_FIELDS: Record<number, string> = { 130: 'blakeTwo256', 131: 'sha256', 132: 'keccak256', 133: 'shaThree256' };

/**
 * A Registration's SCALE bytes as the `toJSON()` of @polkadot/api renders them (`{ deposit, block, info: { fields } }`
 * with `{ sha256: '0x..' }` and `{ rawN: '0x..' }` fields), so decodeModelCommitment reads both the same way.
 * A field kind the extension does not know (a timelock, say) ends the list: the record is then not ours.
 */
export function decodeRegistration(hex: string): { deposit: number; block: number; info: { fields: unknown[] } } {
  const s = new Scale(fromHex(hex));
  const deposit = s.uint(8);
  const block = s.uint(4);
  const n = s.compact();
  const fields: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const kind = s.u8();
    if (kind === 0) fields.push({ none: null });
    else if (kind <= 129) fields.push({ [`raw${kind - 1}`]: toHex(s.take(kind - 1)) });
    else if (HASH_FIELDS[kind]) fields.push({ [HASH_FIELDS[kind]]: toHex(s.take(32)) });
    else {
      fields.push({ unknown: kind });
      break;
    }
  }
  return { deposit, block, info: { fields } };
}

export interface NetworkRead {
  netuid: number;
  /** The block hash all reads were pinned to. */
  at: string;
  candidates: ModelCandidate[];
  pick: ModelPick;
}

/**
 * Reads the metagraph and the commitments of `netuid` at one block and picks the network's model (pickNetworkModel:
 * highest incentive, never zero, ties to the lower uid). Hotkeys are named by their 32-byte public key (hex): that
 * is what the chain stores, and the popup shows only a short prefix of it.
 */
export async function readNetworkModel(reader: ChainReader, netuid: number): Promise<NetworkRead> {
  if (!Number.isInteger(netuid) || netuid < 0 || netuid > 65535) throw bad(`netuid ${netuid} is not a u16`);
  const at = await reader.head();
  const net = u16Key(netuid).slice(2);
  const [uidKeys, [incentiveHex], commitmentKeys] = await Promise.all([
    reader.keys(KEYS_PREFIX + net, at),
    reader.values([INCENTIVE_PREFIX + net], at),
    reader.keys(COMMITMENT_OF_PREFIX + net, at),
  ]);
  const [hotkeyValues, commitmentValues] = await Promise.all([
    uidKeys.length ? reader.values(uidKeys, at) : Promise.resolve([]),
    commitmentKeys.length ? reader.values(commitmentKeys, at) : Promise.resolve([]),
  ]);
  const incentive = decodeIncentive(incentiveHex ?? null);

  // Commitments by hotkey: the key ends with Twox64Concat(account) = 8 hash bytes ++ the 32-byte account.
  const models = new Map<string, PublishedModel>();
  commitmentKeys.forEach((key, i) => {
    const value = commitmentValues[i];
    if (!value || key.length < 2 + 64) return;
    const hotkey = '0x' + key.slice(-64).toLowerCase();
    let record: unknown;
    try {
      record = decodeRegistration(value);
    } catch {
      return; // Not a record this version of the extension reads: as if unpublished.
    }
    const decoded = decodeModelCommitment(record);
    if (decoded.ok) models.set(hotkey, decoded.value);
  });

  const candidates: ModelCandidate[] = [];
  uidKeys.forEach((key, i) => {
    // The key ends with the uid's SCALE bytes (Identity hasher): a little-endian u16.
    const le = fromHex(key.slice(-4));
    const uid = le[0]! + le[1]! * 256;
    const value = hotkeyValues[i];
    if (!value) return;
    const hotkey = value.toLowerCase();
    if (hotkey.length !== 66) throw bad(`the hotkey of uid ${uid} is not 32 bytes`);
    const model = models.get(hotkey);
    candidates.push({ uid, hotkey, incentive: incentive[uid] ?? 0, ...(model ? { model } : {}) });
  });
  candidates.sort((a, b) => a.uid - b.uid);
  return { netuid, at, candidates, pick: pickNetworkModel(candidates) };
}
