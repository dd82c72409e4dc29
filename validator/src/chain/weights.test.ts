import { TypeRegistry } from '@polkadot/types';
import { blake2AsHex } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { commitHash, epochIndex, explain, revealWindow, toU16Weights, U16_MAX, versionKeyFrom } from './weights.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

describe('toU16Weights', () => {
  it('max-upscales so the largest is 65535, rounds, sorts by uid and leaves zeros out', () => {
    // by hand: 0.5/0.5*65535 = 65535; 0.25/0.5*65535 = 32767.5 -> 32768; 0.1/0.5*65535 = 13107
    const out = toU16Weights(
      new Map([
        [7, 0.25],
        [2, 0.5],
        [4, 0.1],
        [9, 0],
      ]),
    );
    expect(out).toEqual({ uids: [2, 4, 7], weights: [65535, 13107, 32768] });
  });

  it('is scale-free: raw scores and normalised scores give the same u16s', () => {
    const a = toU16Weights(
      new Map([
        [0, 3],
        [1, 1],
      ]),
    );
    const b = toU16Weights(
      new Map([
        [0, 0.75],
        [1, 0.25],
      ]),
    );
    expect(a).toEqual(b);
    expect(a).toEqual({ uids: [0, 1], weights: [U16_MAX, 21845] }); // 65535/3 = 21845
  });

  it('drops weights that round to 0 and returns nothing when all are 0', () => {
    expect(
      toU16Weights(
        new Map([
          [0, 1],
          [1, 1e-6],
        ]),
      ),
    ).toEqual({ uids: [0], weights: [65535] });
    expect(
      toU16Weights(
        new Map([
          [0, 0],
          [1, 0],
        ]),
      ),
    ).toEqual({ uids: [], weights: [] });
    expect(toU16Weights(new Map())).toEqual({ uids: [], weights: [] });
  });

  it('refuses negative, non-finite weights and bad uids', () => {
    expect(() => toU16Weights(new Map([[0, -1]]))).toThrow(/>= 0/);
    expect(() => toU16Weights(new Map([[0, Number.NaN]]))).toThrow(/finite/);
    expect(() => toU16Weights(new Map([[0, Infinity]]))).toThrow(/finite/);
    expect(() => toU16Weights(new Map([[70000, 1]]))).toThrow(/u16/);
    expect(() =>
      toU16Weights([
        [1, 1],
        [1, 2],
      ]),
    ).toThrow(/twice/);
  });
});

describe('versionKeyFrom', () => {
  it('is major*1e6 + minor*1e3 + patch', () => {
    expect(versionKeyFrom('1.2.3')).toBe(1_002_003);
    expect(versionKeyFrom('0.1.0')).toBe(1_000);
    expect(versionKeyFrom('v2.10.7')).toBe(2_010_007);
    expect(versionKeyFrom('3.0.1-rc.2')).toBe(3_000_001);
  });
  it('orders releases like semver', () => {
    expect(versionKeyFrom('1.10.0')).toBeGreaterThan(versionKeyFrom('1.9.999'));
    expect(versionKeyFrom('2.0.0')).toBeGreaterThan(versionKeyFrom('1.999.999'));
  });
  it('refuses what it cannot order', () => {
    expect(() => versionKeyFrom('1.2')).toThrow();
    expect(() => versionKeyFrom('1.1000.0')).toThrow(/below 1000/);
    expect(() => versionKeyFrom('abc')).toThrow();
  });
});

describe('commitHash', () => {
  it('is blake2-256 of the SCALE tuple (AccountId, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', () => {
    const registry = new TypeRegistry();
    const args = {
      netuid: 2,
      uids: [1, 2, 3],
      values: [65535, 30000, 0],
      salt: [8044, 1142, 39764, 27272, 4486, 64867, 64177, 57621],
    };
    const encoded = registry
      .createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [
        ALICE,
        args.netuid,
        args.uids,
        args.values,
        args.salt,
        5,
      ])
      .toU8a();
    expect(commitHash(ALICE, args.netuid, args.uids, args.values, args.salt, 5)).toBe(blake2AsHex(encoded, 256));
  });

  it('uses compact lengths correctly past 63 elements and a full u64 version key', () => {
    const registry = new TypeRegistry();
    const uids = Array.from({ length: 300 }, (_, i) => i);
    const values = uids.map((u) => (u * 211) % 65536);
    const vk = 2n ** 63n + 5n;
    const encoded = registry
      .createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [ALICE, 65535, uids, values, [], vk])
      .toU8a();
    expect(commitHash(ALICE, 65535, uids, values, [], vk)).toBe(blake2AsHex(encoded, 256));
  });
});

describe('epochs and reveal windows', () => {
  it('counts epochs as subtensor does: (block + netuid + 1) / (tempo + 1)', () => {
    expect(epochIndex(0, 2, 10)).toBe(0);
    expect(epochIndex(7, 2, 10)).toBe(0);
    expect(epochIndex(8, 2, 10)).toBe(1);
    expect(epochIndex(19, 2, 10)).toBe(2);
  });
  it('reveals in the whole epoch `revealPeriod` epochs after the commit', () => {
    // commit at block 39 on netuid 2, tempo 10: epoch 3 (blocks 30..40); reveal in epoch 4 = blocks 41..51
    expect(revealWindow(39, 2, 10, 1)).toEqual({ first: 41, last: 51 });
    expect(epochIndex(41, 2, 10)).toBe(4);
    expect(epochIndex(51, 2, 10)).toBe(4);
    expect(epochIndex(52, 2, 10)).toBe(5);
    expect(revealWindow(39, 2, 10, 2)).toEqual({ first: 52, last: 62 });
  });
});

describe('explanations', () => {
  it('has plain words for the common errors and a fallback for the rest', () => {
    for (const code of ['SettingWeightsTooFast', 'NeuronNoValidatorPermit', 'IncorrectWeightVersionKey', 'CommitRevealEnabled']) {
      expect(explain(code)).toMatch(/^[A-Z].*\.$/);
      expect(explain(code)).not.toContain(code);
    }
    expect(explain('SomethingNew')).toBe('The chain refused the weights (SomethingNew).');
  });
});
