import { xxhashAsHex } from '@polkadot/util-crypto';
import type { ModelCommitment } from '@veracity/protocol/model-commitment';
import { describe, expect, it } from 'vitest';
import {
  COMMITMENT_OF_PREFIX,
  decodeIncentive,
  decodeRegistration,
  INCENTIVE_PREFIX,
  KEYS_PREFIX,
  readNetworkModel,
  toHex,
} from './chain.js';
import { encodeRegistration, FakeChain } from './fake-chain.js';

// Captured from the local runtime (spec 293) with @polkadot/api: //Bob's commitment of a bundle, its raw storage value
// (`.toHex()`) and `.toJSON()`.
const REAL_HEX =
  '0x0000000000000000130000000c83abababababababababababababababababababababababababababababababab1676657261636974792d62756e646c652f312e372e3019687474703a2f2f3132372e302e302e313a313233342f622f';
const REAL_JSON = {
  deposit: 0,
  block: 19,
  info: {
    fields: [
      { sha256: '0xabababababababababababababababababababababababababababababababab' },
      { raw21: '0x76657261636974792d62756e646c652f312e372e30' },
      { raw24: '0x687474703a2f2f3132372e302e302e313a313233342f622f' },
    ],
  },
};

const bundle = (n: number): ModelCommitment => ({
  sha256: n.toString(16).padStart(2, '0').repeat(32),
  version: `1.${n}.0`,
  url: `https://models.example/${n}/`,
});

describe('reading the network model from raw chain storage', () => {
  it('uses the storage prefixes twox128(pallet) ++ twox128(item) of the items it reads', () => {
    const prefix = (pallet: string, item: string) => xxhashAsHex(pallet, 128) + xxhashAsHex(item, 128).slice(2);
    expect(KEYS_PREFIX).toBe(prefix('SubtensorModule', 'Keys'));
    expect(INCENTIVE_PREFIX).toBe(prefix('SubtensorModule', 'Incentive'));
    expect(COMMITMENT_OF_PREFIX).toBe(prefix('Commitments', 'CommitmentOf'));
  });

  it('decodes a Registration exactly as @polkadot/api renders it from the runtime', () => {
    expect(decodeRegistration(REAL_HEX)).toEqual(REAL_JSON);
    // And the test encoder writes what the runtime stored.
    expect(encodeRegistration({ sha256: 'ab'.repeat(32), version: '1.7.0', url: 'http://127.0.0.1:1234/b/' }, 19)).toBe(REAL_HEX);
  });

  it('decodes the incentive vector per uid, normalised by 65535, and refuses truncated bytes', () => {
    expect(decodeIncentive('0x0c000023c4db3b')).toEqual([0, 50211 / 65535, 15323 / 65535]);
    expect(decodeIncentive(null)).toEqual([]);
    expect(() => decodeIncentive('0x0c0000')).toThrow(expect.objectContaining({ code: 'E_CHAIN_DATA' }));
    expect(() => decodeIncentive('0x0c00000000000000')).toThrow(/trailing/);
  });

  it('picks the published bundle of the uid with the highest incentive', async () => {
    const chain = new FakeChain();
    chain.miner(2, 0, 0xa0); // the validator: no bundle
    chain.miner(2, 1, 0xb0, bundle(1));
    const best = chain.miner(2, 2, 0xc0, bundle(2));
    chain.miner(2, 3, 0xd0); // the highest incentive, but nothing published
    chain.incentive(2, [0, 10000, 40000, 60000]);
    const read = await readNetworkModel(chain, 2);
    expect(read.candidates.map((c) => [c.uid, c.model?.version])).toEqual([
      [0, undefined],
      [1, '1.1.0'],
      [2, '1.2.0'],
      [3, undefined],
    ]);
    expect(read.pick).toMatchObject({ ok: true, uid: 2, hotkey: best, incentive: 40000 / 65535, model: bundle(2) });
  });

  it('ties go to the lower uid; zero incentive is never picked; another subnet is not read', async () => {
    const chain = new FakeChain();
    chain.miner(2, 4, 0xb4, bundle(4));
    chain.miner(2, 3, 0xb3, bundle(3));
    chain.miner(2, 5, 0xb5, bundle(5));
    chain.miner(7, 1, 0xf1, bundle(9)); // subnet 7, richer: not ours
    chain.incentive(2, [0, 0, 0, 30000, 30000, 0]);
    chain.incentive(7, [0, 65535]);
    expect((await readNetworkModel(chain, 2)).pick).toMatchObject({ ok: true, uid: 3 });
  });

  it("no published bundle with incentive: E_NO_PUBLISHED_MODEL; other programs' commitments are ignored", async () => {
    const chain = new FakeChain();
    chain.miner(2, 1, 0xb1, bundle(1));
    // A commitment written by other software: one Raw field, no Sha256 and no tag.
    chain.miner(2, 2, 0xb2, toHex(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 4, 4, 0x61, 0x62, 0x63])));
    // Bytes that are not a Registration at all.
    chain.miner(2, 3, 0xb3, '0x0102');
    chain.incentive(2, [0, 0, 50000, 60000]);
    const read = await readNetworkModel(chain, 2);
    expect(read.candidates.filter((c) => c.model)).toHaveLength(1);
    expect(read.pick).toMatchObject({ ok: false, code: 'E_NO_PUBLISHED_MODEL', message: /none has incentive/ });
    expect((await readNetworkModel(new FakeChain(), 2)).pick).toMatchObject({ ok: false, message: /no miner/ });
  });

  it('refuses a netuid that is not a u16 and a hotkey that is not 32 bytes', async () => {
    await expect(readNetworkModel(new FakeChain(), 70000)).rejects.toMatchObject({ code: 'E_CHAIN_DATA' });
    const chain = new FakeChain();
    chain.storage.set(KEYS_PREFIX + '0200' + '0100', '0x1234');
    await expect(readNetworkModel(chain, 2)).rejects.toThrow(/not 32 bytes/);
  });
});
