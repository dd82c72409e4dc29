/**
 * The model channel on the chain: writing a miner's bundle commitment (commitments.setCommitment under its hotkey)
 * and reading them back, one or all of a subnet. The record's format is @veracity/protocol's model-commitment.ts;
 * this is only the @polkadot/api side of it.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec } from '@polkadot/types/types';
import {
  decodeModelCommitment,
  type Decoded,
  encodeModelCommitment,
  type ModelCommitment,
  type PublishedModel,
} from '@veracity/protocol';
import { submitTx, txCall } from '../chain/tx.js';

type CommitmentQuery = ((...args: unknown[]) => Promise<Codec>) & {
  entries: (...args: unknown[]) => Promise<[{ args: Codec[] }, Codec][]>;
};

function commitmentOf(api: ApiPromise | { query: ApiPromise['query'] }): CommitmentQuery | undefined {
  return (api.query as unknown as Record<string, Record<string, CommitmentQuery | undefined> | undefined>).commitments
    ?.commitmentOf;
}

/** Every commitment record of `netuid` by hotkey, as `toJSON()` (what decodeModelCommitment reads). Empty when the
 * runtime has no commitments pallet. `at` reads them at one block (the metagraph's). */
export async function readCommitments(
  api: ApiPromise | { query: ApiPromise['query'] },
  netuid: number,
): Promise<Map<string, unknown>> {
  const q = commitmentOf(api);
  if (!q) return new Map();
  const entries = await q.entries(netuid);
  return new Map(entries.map(([k, v]) => [k.args[1]!.toString(), v.toJSON()]));
}

/** One hotkey's decoded commitment (E_NOT_A_BUNDLE 'no commitment' when it has none). */
export async function readModelCommitment(api: ApiPromise, netuid: number, hotkey: string): Promise<Decoded<PublishedModel>> {
  const q = commitmentOf(api);
  if (!q) return { ok: false, code: 'E_NOT_A_BUNDLE', message: 'this runtime has no commitments pallet' };
  return decodeModelCommitment((await q(netuid, hotkey)).toJSON());
}

/** Is `hotkey` registered on `netuid` (Uids map)? The commitments pallet refuses others; we say so first. */
export async function isRegistered(api: ApiPromise, netuid: number, hotkey: string): Promise<boolean> {
  const q = api.query.subtensorModule as unknown as Record<string, ((...a: unknown[]) => Promise<Codec>) | undefined>;
  if (!q?.uids) return true;
  const uid = await q.uids(netuid, hotkey);
  return !uid.isEmpty && uid.toJSON() !== null;
}

export interface Published {
  /** The block the commitment was included in. */
  block: number;
  /** What the chain holds now for this hotkey, decoded. */
  readBack: PublishedModel;
}

/**
 * Writes `commitment` under `signer` on `netuid`, waits until it is in a block, reads it back and checks it is what
 * was written. Throws ChainTxError (the chain refused: decoded), TransportError, or an Error when the read-back
 * differs.
 */
export async function publishModel(
  api: ApiPromise,
  signer: KeyringPair,
  netuid: number,
  commitment: ModelCommitment,
  opts: { timeoutMs?: number } = {},
): Promise<Published> {
  const info = encodeModelCommitment(commitment);
  const tx = txCall(api, 'commitments', 'setCommitment')(netuid, info);
  const included = await submitTx(api, signer, tx, { step: 'commitments.setCommitment', timeoutMs: opts.timeoutMs ?? 60_000 });
  const back = await readModelCommitment(api, netuid, signer.address);
  if (!back.ok)
    throw new Error(`the commitment was included at block ${included.block} but reads back as ${back.code}: ${back.message}`);
  const v = back.value;
  if (v.sha256 !== commitment.sha256 || v.version !== commitment.version || v.url !== commitment.url)
    throw new Error(
      `the chain holds ${JSON.stringify(v)} for ${signer.address}, not what was written (another publish raced this one?)`,
    );
  return { block: included.block, readBack: v };
}
