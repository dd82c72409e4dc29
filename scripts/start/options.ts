/**
 * `npm start` options: defaults < environment < flags. Pure (paths are resolved against the root given), so the
 * whole table is unit-tested without starting anything.
 */
import { isAbsolute, join, resolve } from 'node:path';

export interface StartOptions {
  /** Labelled media folder with manifest.csv (the validator's challenges). */
  dataset: string;
  /** Raw chain spec, a path or an http(s) URL. */
  chainSpec: string;
  /** sha256 of the chain spec (required for a URL unless already cached). */
  chainSpecSha256: string;
  /** Model bundle folder the first Node miner publishes and runs (the second runs the tiny fixture). */
  bundle: string;
  /** Where chain and validator state live between runs. */
  stateDir: string;
  /** Start from an empty chain and validator database. */
  fresh: boolean;
  host: string;
  chainPort: number;
  validatorPort: number;
  minerPort: number;
  /** Port of the read-only server of the two published bundles (a fixed one keeps the on-chain URLs valid on resume). */
  bundlePort: number;
  /**
   * Miner hotkeys registered on the subnet: //Miner1 and //Miner2 run headless in Node (publishing the detector and
   * the tiny fixture), the others are for web miners.
   */
  miners: number;
  /** Skip building the web miner and the extension (when they are built already, or to start faster). */
  build: boolean;
  /** Run the two headless Node miners (each publishing its bundle), so rounds start before anyone opens the web miner. */
  nodeMiner: boolean;
  weightsIntervalMs: number;
  tempo: number;
}

export class StartOptionsError extends Error {
  override name = 'StartOptionsError';
}

export const START_HELP = `usage: npm start [-- options]

Brings up a whole local subnet on this machine: the subtensor chain (chopsticks) with a bootstrapped subnet, a
validator with its status page and /metrics, the web miner, two headless Node miners that publish their bundles on
the chain (the shipped detector and the untrained tiny fixture, served over HTTP) and answer with them, and the
extension built for "Load unpacked". Ctrl-C stops everything.

  --dataset DIR          labelled media folder with manifest.csv  [VERACITY_DATASET, default ../shared/datasets]
  --chain-spec PATH|URL  raw subtensor chain spec                 [VERACITY_CHAIN_SPEC, default ../shared/chain/aura-dev-raw-293.json]
  --chain-spec-sha256 H  sha256 of the spec (for a URL)           [VERACITY_CHAIN_SPEC_SHA256]
  --bundle DIR           bundle //Miner1 publishes and runs       [VERACITY_BUNDLE, default models/bundle]
  --state-dir DIR        chain + validator state between runs     [VERACITY_STATE_DIR, default .veracity]
  --fresh                forget the saved chain and validator state
  --host HOST            interface to listen on                   [VERACITY_HOST, default 127.0.0.1]
  --chain-port N         chain websocket port                     [VERACITY_CHAIN_PORT, default 9944]
  --validator-port N     validator websocket + status page port   [VERACITY_PORT, default 8790]
  --miner-port N         web miner page port                      [VERACITY_MINER_PORT, default 8791]
  --bundle-port N        the published bundles' HTTP server port  [VERACITY_BUNDLE_PORT, default 8792]
  --miners N             miner hotkeys to register (//Miner1..N)  [default 3; the Node miners use //Miner1-2]
  --weights-interval-ms  how often the validator sets weights     [VERACITY_WEIGHTS_INTERVAL_MS, default 30000]
  --tempo N              subnet tempo in blocks                   [default 10]
  --no-build             do not (re)build the web miner and the extension
  --no-node-miner        do not run the headless Node miners (nor publish their bundles)
  -h, --help             this text

Once up, it prints one heartbeat line per weights cycle (rounds, miners online, the weights, errors). More:
  VERACITY_LOG_LEVEL     the validator's JSON log on stderr: debug, info, warn or error [default warn here]
  VERACITY_SEED, VERACITY_VIDEO_SHARE, ...  any other validator option (npx veracity-validator --help)`;

type FlagKind = 'string' | 'int' | 'bool';
const FLAGS: Record<string, { key: keyof StartOptions; kind: FlagKind; env?: string }> = {
  dataset: { key: 'dataset', kind: 'string', env: 'VERACITY_DATASET' },
  'chain-spec': { key: 'chainSpec', kind: 'string', env: 'VERACITY_CHAIN_SPEC' },
  'chain-spec-sha256': { key: 'chainSpecSha256', kind: 'string', env: 'VERACITY_CHAIN_SPEC_SHA256' },
  bundle: { key: 'bundle', kind: 'string', env: 'VERACITY_BUNDLE' },
  'state-dir': { key: 'stateDir', kind: 'string', env: 'VERACITY_STATE_DIR' },
  fresh: { key: 'fresh', kind: 'bool' },
  host: { key: 'host', kind: 'string', env: 'VERACITY_HOST' },
  'chain-port': { key: 'chainPort', kind: 'int', env: 'VERACITY_CHAIN_PORT' },
  'validator-port': { key: 'validatorPort', kind: 'int', env: 'VERACITY_PORT' },
  'miner-port': { key: 'minerPort', kind: 'int', env: 'VERACITY_MINER_PORT' },
  'bundle-port': { key: 'bundlePort', kind: 'int', env: 'VERACITY_BUNDLE_PORT' },
  miners: { key: 'miners', kind: 'int' },
  'weights-interval-ms': { key: 'weightsIntervalMs', kind: 'int', env: 'VERACITY_WEIGHTS_INTERVAL_MS' },
  tempo: { key: 'tempo', kind: 'int' },
  build: { key: 'build', kind: 'bool' },
  'node-miner': { key: 'nodeMiner', kind: 'bool' },
};

export function defaultStartOptions(root: string): StartOptions {
  return {
    dataset: resolve(root, '../shared/datasets'),
    chainSpec: resolve(root, '../shared/chain/aura-dev-raw-293.json'),
    chainSpecSha256: '',
    bundle: join(root, 'models/bundle'),
    stateDir: join(root, '.veracity'),
    fresh: false,
    host: '127.0.0.1',
    chainPort: 9944,
    validatorPort: 8790,
    minerPort: 8791,
    bundlePort: 8792,
    miners: 3,
    build: true,
    nodeMiner: true,
    weightsIntervalMs: 30_000,
    tempo: 10,
  };
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Returns the options, or 'help'. Throws StartOptionsError naming every bad value at once. */
export function parseStartOptions(
  argv: string[],
  env: Record<string, string | undefined>,
  root: string,
  cwd: string = root,
): StartOptions | 'help' {
  const opts = defaultStartOptions(root);
  const problems: string[] = [];
  const set = (flag: string, raw: string, from: string) => {
    const spec = FLAGS[flag]!;
    if (spec.kind === 'int') {
      const n = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) problems.push(`${from} must be a whole number (got "${raw}")`);
      else (opts[spec.key] as number) = n;
    } else if (spec.kind === 'bool') {
      (opts[spec.key] as boolean) = raw !== 'false' && raw !== '0';
    } else {
      // Paths from the environment or the command line are relative to where the user stands.
      const pathy = spec.key === 'dataset' || spec.key === 'bundle' || spec.key === 'stateDir' || spec.key === 'chainSpec';
      (opts[spec.key] as string) = pathy && raw && !isUrl(raw) && !isAbsolute(raw) ? resolve(cwd, raw) : raw;
    }
  };
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const v = spec.env ? env[spec.env] : undefined;
    if (v !== undefined && v !== '') set(flag, v, spec.env!);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    const m = /^--(no-)?([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    const spec = m ? FLAGS[m[2]!] : undefined;
    if (!m || !spec) {
      problems.push(`unknown option ${arg}`);
      continue;
    }
    if (spec.kind === 'bool') {
      if (m[3] !== undefined) problems.push(`--${m[2]} takes no value`);
      else set(m[2]!, m[1] ? 'false' : 'true', arg);
      continue;
    }
    if (m[1]) {
      problems.push(`--no-${m[2]} is not an option`);
      continue;
    }
    const value = m[3] ?? argv[++i];
    if (value === undefined || (m[3] === undefined && value.startsWith('--'))) {
      problems.push(`--${m[2]} needs a value`);
      if (value?.startsWith('--')) i--;
      continue;
    }
    set(m[2]!, value, `--${m[2]}`);
  }
  for (const [key, lo, hi] of [
    ['chainPort', 0, 65535],
    ['validatorPort', 0, 65535],
    ['minerPort', 0, 65535],
    ['bundlePort', 0, 65535],
    ['miners', 1, 64],
    ['tempo', 1, 1000],
    ['weightsIntervalMs', 1000, 86_400_000],
  ] as const) {
    const v = opts[key];
    if (v < lo || v > hi) problems.push(`${key} must be between ${lo} and ${hi} (got ${v})`);
  }
  // One line, like every other CLI here (models/cli/usage.ts): the problems and where the options are described.
  if (problems.length)
    throw new StartOptionsError(`npm start: ${problems.join('; ')} — fix: run npm start -- --help for every option`);
  return opts;
}
