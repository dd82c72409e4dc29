/**
 * The network model's state as the extension keeps it (chrome.storage.local, through platform.ts) and shows it: the
 * bundle in use (a network bundle, or the one in the package), the last check and its error. Also the schedule and
 * the plain-words lines the options page, the popup and the badges print. Pure.
 */
import { isThreshold } from '@veracity/protocol/domain';
import type { Settings } from '../settings.js';
import type { DownloadProgress } from './download.js';

/** chrome.alarms name of the periodic check. */
export const NETWORK_ALARM = 'veracity-network-check';
/**
 * How often the network is checked while the network model is on. Incentive changes once per tempo (360 blocks, about
 * 72 minutes on finney): an hourly check keeps up with the ranking without asking the chain more than it changes.
 */
export const CHECK_PERIOD_MINUTES = 60;

/** A network bundle the extension has verified, stored and switched to. */
export interface NetworkModelRef {
  /** The bundle's id: sha256 of its manifest.json (the on-chain commitment). */
  bundle: string;
  id: string;
  version: string;
  /** The model file's sha256 (what receipts name, as for the bundled model). */
  modelSha256: string;
  /** The bundle's operating point (its manifest's calibration.threshold), absent when it names none. */
  threshold?: number;
  url: string;
  uid: number;
  /** The miner's hotkey, as 32 bytes hex. */
  hotkey: string;
  /** [0, 1] at the last check. */
  incentive: number;
  netuid: number;
  endpoint: string;
  /** When the extension switched to it (epoch ms). */
  since: number;
}

export interface NetworkState {
  active: NetworkModelRef | null;
  /** When the last check ended (epoch ms), and what came of it. */
  lastCheck: number | null;
  lastOutcome: 'switched' | 'kept' | 'failed' | null;
  lastError: { code: string; message: string; at: number } | null;
  /** While a check runs: since when, and its download progress. */
  checking: { since: number; progress: DownloadProgress | null } | null;
}

export const EMPTY_NETWORK_STATE: Readonly<NetworkState> = Object.freeze({
  active: null,
  lastCheck: null,
  lastOutcome: null,
  lastError: null,
  checking: null,
});

const SHA = /^[0-9a-f]{64}$/;

function readRef(v: unknown): NetworkModelRef | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === 'string' && (r[k] as string).length > 0;
  const num = (k: string) => typeof r[k] === 'number' && Number.isFinite(r[k]);
  if (!(typeof r.bundle === 'string' && SHA.test(r.bundle) && typeof r.modelSha256 === 'string' && SHA.test(r.modelSha256)))
    return null;
  if (!['id', 'version', 'url', 'hotkey', 'endpoint'].every(str) || !['uid', 'incentive', 'netuid', 'since'].every(num))
    return null;
  if (r.threshold !== undefined && !isThreshold(r.threshold)) {
    // A bad operating point is dropped, not the model: the badges take the detector's own from its manifest.
    const { threshold: _dropped, ...rest } = r;
    return rest as unknown as NetworkModelRef;
  }
  return r as unknown as NetworkModelRef;
}

/** The stored state, whatever was stored: a malformed part falls back to empty (the bundled model). */
export function readNetworkState(stored: unknown): NetworkState {
  if (typeof stored !== 'object' || stored === null) return { ...EMPTY_NETWORK_STATE };
  const s = stored as Record<string, unknown>;
  const err = s.lastError as NetworkState['lastError'];
  const checking = s.checking as NetworkState['checking'];
  return {
    active: readRef(s.active),
    lastCheck: typeof s.lastCheck === 'number' ? s.lastCheck : null,
    lastOutcome: s.lastOutcome === 'switched' || s.lastOutcome === 'kept' || s.lastOutcome === 'failed' ? s.lastOutcome : null,
    lastError:
      err &&
      typeof err === 'object' &&
      typeof err.code === 'string' &&
      typeof err.message === 'string' &&
      typeof err.at === 'number'
        ? err
        : null,
    checking: checking && typeof checking === 'object' && typeof checking.since === 'number' ? checking : null,
  };
}

/** The network bundle scans use now: none while the network model is off, or when it points at another chain/subnet. */
export function networkModelInUse(settings: Settings, state: NetworkState): NetworkModelRef | null {
  const a = state.active;
  if (!settings.networkModel || !a) return null;
  return a.endpoint === settings.chainEndpoint && a.netuid === settings.netuid ? a : null;
}

/** The periodic check: on every CHECK_PERIOD_MINUTES while the network model is on, none while it is off. */
export function alarmPlan(settings: Settings): { periodInMinutes: number } | null {
  return settings.networkModel ? { periodInMinutes: CHECK_PERIOD_MINUTES } : null;
}

/**
 * Whether a check is due now (the service worker wakes up, or the setting was just turned on): never checked, the
 * last check older than the period, or a check that has been "running" for longer than a check can (the worker that
 * ran it was stopped).
 */
export function checkDue(state: NetworkState, now: number, periodMinutes = CHECK_PERIOD_MINUTES): boolean {
  if (state.checking && now - state.checking.since < 10 * 60_000) return false;
  return state.lastCheck === null || now - state.lastCheck >= periodMinutes * 60_000;
}

/** A short hotkey for people: its first and last hex digits. */
export function shortKey(hotkey: string): string {
  return hotkey.length > 14 ? `${hotkey.slice(0, 8)}…${hotkey.slice(-4)}` : hotkey;
}

/** The model that scored something, as a line: "network model 1.7.0 · miner uid 2 · incentive 0.77" or "bundled model …". */
export function describeModel(model: { id: string; version: string; network?: { uid: number; incentive: number } }): string {
  if (!model.network) return `bundled model ${model.id} ${model.version}`;
  return `network model ${model.id} ${model.version} · miner uid ${model.network.uid} · incentive ${model.network.incentive.toFixed(2)}`;
}

/** The options page's state lines, in plain words. */
export function describeNetworkState(settings: Settings, state: NetworkState, now: number): string[] {
  const lines: string[] = [];
  const inUse = networkModelInUse(settings, state);
  lines.push(
    inUse
      ? `Current model: from the network, ${inUse.id} ${inUse.version}, miner uid ${inUse.uid} (hotkey ${shortKey(inUse.hotkey)}), incentive ${inUse.incentive.toFixed(2)}`
      : 'Current model: bundled with the extension',
  );
  if (!settings.networkModel) lines.push('Network model is off: nothing is read from any chain.');
  if (state.checking) {
    const p = state.checking.progress;
    lines.push(
      p?.total
        ? `Checking: ${p.stage} ${Math.round((100 * p.loaded) / p.total)}% of ${(p.total / 1e6).toFixed(1)} MB`
        : 'Checking the network…',
    );
  }
  if (state.lastCheck !== null) {
    const mins = Math.round((now - state.lastCheck) / 60_000);
    const what =
      state.lastOutcome === 'switched'
        ? 'switched to the network model'
        : state.lastOutcome === 'kept'
          ? 'the model in use is still the best'
          : 'failed';
    lines.push(`Last check: ${mins < 1 ? 'just now' : `${mins} min ago`} (${what})`);
  } else lines.push('Last check: never');
  if (state.lastError) lines.push(`Last error: ${state.lastError.message}`);
  return lines;
}
