/**
 * The page's runtime configuration: built-in defaults < `./config.json` beside index.html (written by `npm start`
 * or by whoever hosts the static files) < URL query parameters. Pure, so the merge rules are tested in Node.
 */

export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export interface MinerConfig {
  /** Validator WebSocket URLs; the miner keeps one session per URL. */
  validators: string[];
  /** Subtensor node WebSocket endpoint, read-only (registration, uid, weights, incentive). */
  chain: string;
  netuid: number;
  /** Where the model bundle (manifest.json + model file) lives, relative to the page. */
  bundle: string;
  /** auto = WebGPU, falling back to WASM. */
  backend: BackendChoice;
  /** Challenges answered per minute at most, over all validators; 0 = no cap. */
  maxPerMinute: number;
  /** A development secret URI (e.g. //Miner2) offered when no wallet extension is present; config.json only. */
  devAccount: string | null;
  /** Preferred account address when the wallet holds several. */
  account: string | null;
  /**
   * Least stake (alpha on the netuid) a validator must hold, besides a validator permit, for this page to mine for
   * it; read from the chain before every connection. 0 requires the permit only.
   */
  minValidatorStake: number;
  /**
   * Check validators on the chain at all (default true). Off only for a validator without a chain (benchmarks on
   * loopback): the page then mines for any validator whose hello verifies, and says so.
   */
  checkValidators: boolean;
}

export const BUILT_IN: Readonly<MinerConfig> = Object.freeze({
  validators: ['ws://127.0.0.1:8790/'],
  chain: 'ws://127.0.0.1:9944',
  netuid: 2,
  bundle: './bundle/',
  backend: 'auto',
  maxPerMinute: 0,
  devAccount: null,
  account: null,
  minValidatorStake: 0,
  checkValidators: true,
});

export interface ResolvedConfig {
  config: MinerConfig;
  /** Every value that was ignored and why, shown on the page (a typo must not silently mine elsewhere). */
  problems: string[];
}

const isWs = (v: string): boolean => {
  try {
    const u = new URL(v);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
};

type Setter = (value: unknown, where: string) => void;

/** Applies `file` (parsed config.json, or null when absent) then the query string to the defaults. */
export function resolveConfig(file: unknown, query: string, defaults: MinerConfig = BUILT_IN): ResolvedConfig {
  const config: MinerConfig = { ...defaults, validators: [...defaults.validators] };
  const problems: string[] = [];
  const setters: Record<string, Setter> = {
    validators: (v, where) => {
      const list = Array.isArray(v) ? v : [v];
      const ok = list.filter((x): x is string => typeof x === 'string' && isWs(x));
      for (const bad of list.filter((x) => !(typeof x === 'string' && isWs(x))))
        problems.push(`${where}: validator ${JSON.stringify(bad)} is not a ws:// or wss:// URL`);
      if (ok.length > 0) config.validators = [...new Set(ok)];
    },
    chain: (v, where) => {
      if (typeof v === 'string' && isWs(v)) config.chain = v;
      else problems.push(`${where}: chain ${JSON.stringify(v)} is not a ws:// or wss:// URL`);
    },
    netuid: (v, where) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      if (Number.isInteger(n) && n >= 0 && n <= 65535) config.netuid = n;
      else problems.push(`${where}: netuid ${JSON.stringify(v)} is not an integer in 0..65535`);
    },
    bundle: (v, where) => {
      if (typeof v === 'string' && v.length > 0) config.bundle = v;
      else problems.push(`${where}: bundle must be a non-empty URL`);
    },
    backend: (v, where) => {
      if (v === 'auto' || v === 'webgpu' || v === 'wasm') config.backend = v;
      else problems.push(`${where}: backend ${JSON.stringify(v)} is not auto, webgpu or wasm`);
    },
    maxPerMinute: (v, where) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      if (Number.isInteger(n) && n >= 0) config.maxPerMinute = n;
      else problems.push(`${where}: maxPerMinute ${JSON.stringify(v)} is not a non-negative integer`);
    },
    minValidatorStake: (v, where) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
      if (Number.isFinite(n) && n >= 0) config.minValidatorStake = n;
      else problems.push(`${where}: minValidatorStake ${JSON.stringify(v)} is not a number of alpha >= 0`);
    },
    checkValidators: (v, where) => {
      if (v === true || v === 'true' || v === '1') config.checkValidators = true;
      else if (v === false || v === 'false' || v === '0') config.checkValidators = false;
      else problems.push(`${where}: checkValidators ${JSON.stringify(v)} is not true or false`);
    },
    devAccount: (v, where) => {
      if (v === null || (typeof v === 'string' && v.length > 0)) config.devAccount = v;
      else problems.push(`${where}: devAccount must be a secret URI or null`);
    },
    account: (v, where) => {
      if (typeof v === 'string' && v.length > 0) config.account = v;
      else problems.push(`${where}: account must be an SS58 address`);
    },
  };

  if (file !== null && file !== undefined) {
    if (typeof file !== 'object' || Array.isArray(file)) problems.push('config.json: not a JSON object (ignored)');
    else
      for (const [key, value] of Object.entries(file)) {
        const set = setters[key];
        if (set) set(value, 'config.json');
        else problems.push(`config.json: unknown key "${key}" (ignored)`);
      }
  }

  // Query names are short and singular (?validator=a&validator=b); a secret never travels in a URL.
  const params = new URLSearchParams(query);
  const QUERY: Record<string, string> = {
    validator: 'validators',
    chain: 'chain',
    netuid: 'netuid',
    bundle: 'bundle',
    backend: 'backend',
    rate: 'maxPerMinute',
    minStake: 'minValidatorStake',
    checkValidators: 'checkValidators',
    account: 'account',
  };
  const validators = params.getAll('validator');
  if (validators.length > 0) setters.validators!(validators, 'URL');
  for (const [name, key] of Object.entries(QUERY)) {
    if (name === 'validator') continue;
    const v = params.get(name);
    if (v !== null) setters[key]!(v, 'URL');
  }
  return { config, problems };
}
