// Settings schema, defaults, validation and per-site matching. Pure: storage lives behind platform.ts.
import type { BackendChoice } from '@veracity/models';
import { DEFAULT_THRESHOLD, isThreshold } from '@veracity/protocol/domain';
import { ExtensionError, ExtensionErrorCode } from './errors.js';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'webgpu', 'wasm'];

export interface Settings {
  /** Auto-scan everywhere except blocked sites. Off: only allowed sites (and the context menu) scan. */
  enabled: boolean;
  /**
   * P(AI) = P(synthetic) + P(semisynthetic) at or above which an item is flagged, as the user set it. null (the
   * default): the operating point of the model that scored the item (see verdict.ts thresholdInForce).
   */
  threshold: number | null;
  /** 'auto': WebGPU on a hardware adapter, WASM otherwise (a software WebGPU adapter is far slower than WASM). */
  backend: BackendPreference;
  /** Hostnames always scanned (even when `enabled` is off); `example.com` covers its subdomains. */
  allowSites: string[];
  /** Hostnames never auto-scanned; wins over `allowSites`. */
  blockSites: string[];
  /** Badge items that look real too (green), not only flagged and borderline ones. */
  badgeReal: boolean;
  /**
   * Follow the network (opt-in): read the subnet's metagraph and commitments from `chainEndpoint` and switch to the
   * published bundle of the miner with the highest incentive, once verified. Off: nothing is read from any chain.
   */
  networkModel: boolean;
  /** The subtensor node to read, ws:// or wss://. */
  chainEndpoint: string;
  /** The subnet whose miners' bundles are followed. */
  netuid: number;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  enabled: true,
  threshold: null,
  backend: 'auto',
  allowSites: [],
  blockSites: [],
  badgeReal: true,
  networkModel: false,
  // A node on this machine (`npm start` or a local subtensor); the user names a public node to follow a live subnet.
  chainEndpoint: 'ws://127.0.0.1:9944',
  netuid: 2,
});

/** Why `endpoint` cannot be a chain endpoint (ws:// or wss://, no credentials), or undefined when it can. */
export function chainEndpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `"${endpoint}" is not a URL (like wss://chain.example:443)`;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `the chain endpoint must be ws:// or wss://, not ${url.protocol}`;
  if (url.username || url.password) return 'the chain endpoint must not carry credentials';
  return undefined;
}

function invalid(message: string): ExtensionError {
  return new ExtensionError(ExtensionErrorCode.SettingsInvalid, message);
}

/**
 * A site as stored in the lists: a bare lowercase hostname. Accepts a URL or a hostname (with an optional leading
 * `*.` or `www.` kept as typed except for the wildcard), refuses anything else with E_SETTINGS_INVALID.
 */
export function normalizeSite(input: string): string {
  let s = input.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(s)) {
    try {
      s = new URL(s).hostname;
    } catch {
      throw invalid(`not a URL or hostname: ${JSON.stringify(input)}`);
    }
  }
  s = s.replace(/^\*\./, '').replace(/\.$/, '');
  const ipv6 = /^\[[0-9a-f:.]+\]$/.test(s);
  if (!ipv6 && !/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(s)) {
    throw invalid(`not a hostname: ${JSON.stringify(input)}`);
  }
  return s;
}

/** `example.com` matches example.com and any subdomain of it; nothing else. */
export function siteMatches(site: string, hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === site || host.endsWith(`.${site}`);
}

/** Whether pages on `hostname` are scanned automatically. */
export function siteEnabled(settings: Settings, hostname: string): boolean {
  if (settings.blockSites.some((s) => siteMatches(s, hostname))) return false;
  if (settings.allowSites.some((s) => siteMatches(s, hostname))) return true;
  return settings.enabled;
}

/** The popup's per-site switch: records an explicit choice for exactly this host, dropping contradicting entries. */
export function setSiteEnabled(settings: Settings, hostname: string, on: boolean): Settings {
  const site = normalizeSite(hostname);
  const allow = settings.allowSites.filter((s) => !siteMatches(s, site));
  const block = settings.blockSites.filter((s) => !siteMatches(s, site));
  return on
    ? { ...settings, allowSites: [...allow, site], blockSites: block }
    : { ...settings, allowSites: allow, blockSites: [...block, site] };
}

function sites(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be a list of hostnames`);
  const out: string[] = [];
  for (const v of value) {
    if (typeof v !== 'string') throw invalid(`${field} must be a list of hostnames`);
    const s = normalizeSite(v);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Validates a partial update (from the options page or popup); every bad field is an E_SETTINGS_INVALID error. */
export function validatePatch(patch: unknown): Partial<Settings> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw invalid('settings must be an object');
  const p = patch as Record<string, unknown>;
  const out: Partial<Settings> = {};
  for (const key of Object.keys(p)) {
    if (!(key in DEFAULT_SETTINGS)) throw invalid(`unknown setting ${JSON.stringify(key)}`);
  }
  if ('enabled' in p) {
    if (typeof p.enabled !== 'boolean') throw invalid('enabled must be true or false');
    out.enabled = p.enabled;
  }
  if ('badgeReal' in p) {
    if (typeof p.badgeReal !== 'boolean') throw invalid('badgeReal must be true or false');
    out.badgeReal = p.badgeReal;
  }
  if ('threshold' in p) {
    const t = p.threshold;
    if (t !== null && !isThreshold(t))
      throw invalid("threshold must be a number between 0 and 1 (exclusive), or null for the model's operating point");
    out.threshold = t;
  }
  if ('backend' in p) {
    if (!BACKEND_PREFERENCES.includes(p.backend as BackendPreference)) {
      throw invalid(`backend must be one of ${BACKEND_PREFERENCES.join(', ')}`);
    }
    out.backend = p.backend as BackendPreference;
  }
  if ('networkModel' in p) {
    if (typeof p.networkModel !== 'boolean') throw invalid('networkModel must be true or false');
    out.networkModel = p.networkModel;
  }
  if ('chainEndpoint' in p) {
    const problem =
      typeof p.chainEndpoint === 'string' ? chainEndpointProblem(p.chainEndpoint.trim()) : 'the chain endpoint must be a text';
    if (problem) throw invalid(problem);
    out.chainEndpoint = (p.chainEndpoint as string).trim();
  }
  if ('netuid' in p) {
    if (!Number.isInteger(p.netuid) || (p.netuid as number) < 0 || (p.netuid as number) > 65535)
      throw invalid('netuid must be an integer in 0..65535');
    out.netuid = p.netuid as number;
  }
  if ('allowSites' in p) out.allowSites = sites(p.allowSites, 'allowSites');
  if ('blockSites' in p) out.blockSites = sites(p.blockSites, 'blockSites');
  return out;
}

/**
 * The `format` of stored settings. 2: the threshold may be null (the model's operating point). Versions before it
 * stored no format and always a number, their default 0.5 included.
 */
export const SETTINGS_FORMAT = 2;

/** What is written to storage: the settings and their format (readSettings tells older objects by its absence). */
export function storedSettings(settings: Settings): Settings & { format: number } {
  return { ...settings, format: SETTINGS_FORMAT };
}

/**
 * Settings as read back from storage: whatever is valid is kept, a field that is missing or no longer valid (an
 * older version, a hand edit) falls back to its default, so a bad stored value never disables the extension.
 * A threshold of 0.5 stored by a version before operating points was its default (every change to any setting
 * stored all of them), not a choice: it becomes the model's operating point. Any other stored number was chosen.
 */
export function readSettings(stored: unknown): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS, allowSites: [], blockSites: [] };
  if (typeof stored !== 'object' || stored === null) return out;
  const formatted = (stored as { format?: unknown }).format === SETTINGS_FORMAT;
  for (const [key, value] of Object.entries(stored)) {
    if (key === 'format') continue;
    if (key === 'threshold' && !formatted && value === DEFAULT_THRESHOLD) continue;
    try {
      Object.assign(out, validatePatch({ [key]: value }));
    } catch {
      // Keep the default for this field.
    }
  }
  return out;
}

/**
 * What the runtime is asked for. 'auto' is decided by @veracity/models' backendPlan once the WebGPU adapter is known
 * (a software adapter such as SwiftShader is far slower than WASM); a chosen WebGPU still falls back to WASM.
 */
export function backendChoice(preference: BackendPreference): BackendChoice {
  if (preference === 'auto') return 'auto';
  return preference === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'];
}
