import { describe, expect, it } from 'vitest';
import { diffMetagraphs, type Neuron, registrationOf } from './metagraph.js';

const n = (uid: number, hotkey: string, validatorPermit = false): Neuron => ({
  uid,
  hotkey,
  validatorPermit,
  lastUpdate: 0,
  active: true,
  incentive: 0,
  dividends: 0,
});

describe('diffMetagraphs', () => {
  it('reports nothing for the first read', () => {
    expect(diffMetagraphs(null, { uids: [n(0, 'a')] })).toEqual([]);
  });

  it('reports registrations, deregistrations, hotkey changes and permit changes by uid', () => {
    const before = { uids: [n(0, 'v', true), n(1, 'a'), n(2, 'b'), n(3, 'c')] };
    const after = { uids: [n(0, 'v', false), n(1, 'a'), n(2, 'B'), n(4, 'd')] };
    expect(diffMetagraphs(before, after)).toEqual([
      { type: 'permit-changed', uid: 0, hotkey: 'v', validatorPermit: false },
      { type: 'hotkey-changed', uid: 2, from: 'b', to: 'B' },
      { type: 'deregistered', uid: 3, hotkey: 'c' },
      { type: 'registered', uid: 4, hotkey: 'd' },
    ]);
  });

  it('reports nothing when nothing changed', () => {
    const m = { uids: [n(0, 'v', true), n(1, 'a')] };
    expect(diffMetagraphs(m, { uids: [n(1, 'a'), n(0, 'v', true)] })).toEqual([]);
  });
});

describe('registrationOf', () => {
  it('lets a registered hotkey mine under its uid, and nobody before a metagraph is read', () => {
    const mg = { byHotkey: new Map([['a', n(3, 'a')]]) };
    expect(registrationOf(mg, 'a')).toEqual({ ok: true, uid: 3 });
    expect(registrationOf(mg, 'b')).toEqual({ ok: false });
    expect(registrationOf(undefined, 'a')).toEqual({ ok: false });
  });
});
