import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../settings.js';
import {
  alarmPlan,
  CHECK_PERIOD_MINUTES,
  checkDue,
  describeModel,
  describeNetworkState,
  EMPTY_NETWORK_STATE,
  type NetworkModelRef,
  type NetworkState,
  networkModelInUse,
  readNetworkState,
} from './state.js';

const ref: NetworkModelRef = {
  bundle: 'ab'.repeat(32),
  id: 'veracity-detector',
  version: '1.7.0',
  modelSha256: 'cd'.repeat(32),
  url: 'http://127.0.0.1:9/b/',
  uid: 2,
  hotkey: '0x' + 'ef'.repeat(32),
  incentive: 0.766,
  netuid: 2,
  endpoint: 'ws://127.0.0.1:9944',
  since: 1,
};
const on = { ...DEFAULT_SETTINGS, networkModel: true };
const state = (s: Partial<NetworkState>): NetworkState => ({ ...EMPTY_NETWORK_STATE, ...s });

describe('network model state', () => {
  it('is off by default: no alarm, and the bundled model is in use', () => {
    expect(DEFAULT_SETTINGS.networkModel).toBe(false);
    expect(alarmPlan(DEFAULT_SETTINGS)).toBeNull();
    expect(networkModelInUse(DEFAULT_SETTINGS, state({ active: ref }))).toBeNull();
    expect(alarmPlan(on)).toEqual({ periodInMinutes: CHECK_PERIOD_MINUTES });
  });

  it('uses the stored network bundle only for the chain and subnet it came from', () => {
    expect(networkModelInUse(on, state({ active: ref }))).toBe(ref);
    expect(networkModelInUse({ ...on, netuid: 3 }, state({ active: ref }))).toBeNull();
    expect(networkModelInUse({ ...on, chainEndpoint: 'wss://other.example' }, state({ active: ref }))).toBeNull();
  });

  it('schedule: due when never checked or a period has passed; not while a recent check runs', () => {
    const hour = 60 * 60_000;
    expect(checkDue(state({}), 0)).toBe(true);
    expect(checkDue(state({ lastCheck: 1000 }), 1000 + hour - 1)).toBe(false);
    expect(checkDue(state({ lastCheck: 1000 }), 1000 + hour)).toBe(true);
    expect(checkDue(state({ checking: { since: 5, progress: null } }), 5 + 60_000)).toBe(false);
    // A check "running" for 10 minutes was cut short (its service worker stopped): due again.
    expect(checkDue(state({ checking: { since: 5, progress: null } }), 5 + 10 * 60_000)).toBe(true);
  });

  it('reads back whatever was stored, dropping what is malformed', () => {
    expect(readNetworkState(undefined)).toEqual(EMPTY_NETWORK_STATE);
    expect(readNetworkState({ active: { ...ref, bundle: 'nope' }, lastCheck: 'x', lastOutcome: 'won' })).toEqual(
      EMPTY_NETWORK_STATE,
    );
    const s = state({
      active: ref,
      lastCheck: 9,
      lastOutcome: 'failed',
      lastError: { code: 'E_CHAIN_TIMEOUT', message: 'm', at: 9 },
    });
    expect(readNetworkState(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it("keeps a network bundle's operating point, and drops only a malformed one", () => {
    expect(readNetworkState({ active: { ...ref, threshold: 0.8 } }).active?.threshold).toBe(0.8);
    const bad = readNetworkState({ active: { ...ref, threshold: 2 } }).active;
    expect(bad).toEqual(ref);
  });

  it('names the model in plain words', () => {
    expect(describeModel({ id: 'veracity-detector', version: '1.7.0' })).toBe('bundled model veracity-detector 1.7.0');
    expect(describeModel({ id: 'veracity-detector', version: '1.7.0', network: ref })).toBe(
      'network model veracity-detector 1.7.0 · miner uid 2 · incentive 0.77',
    );
    const now = 10 * 60_000;
    expect(describeNetworkState(DEFAULT_SETTINGS, state({}), now)).toEqual([
      'Current model: bundled with the extension',
      'Network model is off: nothing is read from any chain.',
      'Last check: never',
    ]);
    const lines = describeNetworkState(
      on,
      state({
        active: ref,
        lastCheck: 0,
        lastOutcome: 'failed',
        lastError: { code: 'E_CHAIN_UNREACHABLE', message: 'E_CHAIN_UNREACHABLE: cannot connect', at: 0 },
      }),
      now,
    );
    expect(
      describeNetworkState(
        on,
        state({ checking: { since: 0, progress: { stage: 'download', loaded: 1_100_000, total: 2_200_000 } } }),
        now,
      ),
    ).toContain('Checking: download 50% of 2.2 MB');
    expect(lines).toEqual([
      'Current model: from the network, veracity-detector 1.7.0, miner uid 2 (hotkey 0xefefef…efef), incentive 0.77',
      'Last check: 10 min ago (failed)',
      'Last error: E_CHAIN_UNREACHABLE: cannot connect',
    ]);
  });
});
