/**
 * Validator configuration from defaults < JSON config file < environment < command-line flags, checked once at
 * start-up so a bad value stops the validator with every problem named, not an hour later mid-round.
 */
import { parseCli } from '@veracity/models/cli';

export interface ValidatorConfig {
  /** Labelled media folder with manifest.csv. */
  dataset: string;
  /** SQLite file for miners, answers, challenges and weights. */
  db: string;
  host: string;
  port: number;
  /** Challenge stream seed; keep it private (it makes challenges reproducible). */
  seed: string;
  roundIntervalMs: number;
  /** Miners sampled per round. */
  sampleSize: number;
  /** Time a miner has to answer a challenge. */
  timeoutMs: number;
  /** Rounds per label reveal window: miners get the labels and salts of their closed challenges this often. */
  revealEveryRounds: number;
  /** Percent of challenges that are video (0-100); 0 sends images only (slow miners, e.g. a CPU-emulated GPU). */
  videoShare: number;
  /** Chain websocket endpoint; empty runs the validator without a chain (scores only). */
  chainEndpoint: string;
  netuid: number;
  /** Hotkey as a secret URI or mnemonic (env only: never a flag, which would land in shell history and `ps`). */
  hotkeyUri: string;
  /** polkadot-js JSON keystore file and its password (the password from env only). */
  keystore: string;
  keystorePassword: string;
  weightsIntervalMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Copy detection: 'flag' shows suspected groups (status page, /metrics); 'share' also gives each group one share. */
  copyPolicy: 'flag' | 'share';
  /**
   * What an unpublished miner's weight is multiplied by (0..1): one that declares no bundle, or one it has not
   * committed on chain. 1 keeps today's unpublished miners earning; 0 makes the model channel trustworthy.
   */
  unpublishedShare: number;
  /** Folder `tae.py --export` wrote (tae-<family>.onnx + tae.json); empty: static challenges only. */
  taeModels: string;
  /** The operator's private folder of real photos generated items are made from; empty: the dataset's real images. */
  realPool: string;
  /** Percent of image challenges of each label taken from the generated source (with taeModels). */
  generatedReal: number;
  generatedSynthetic: number;
  generatedSemisynthetic: number;
  /** Generated items kept ready, all labels together. */
  generatedAhead: number;
  /** onnxruntime threads of the (niced) round-trip process. */
  generatorThreads: number;
  /** The operator's private folder of real clips generated video items are made from; empty: the dataset's real clips. */
  realClips: string;
  /** Percent of video challenges of every label taken from the generated video source (with taeModels). */
  generatedVideo: number;
  /** Generated clips kept ready, all labels together. */
  generatedVideoAhead: number;
}

export const DEFAULTS: ValidatorConfig = {
  dataset: '../shared/datasets',
  db: 'validator.db',
  host: '127.0.0.1',
  port: 8790,
  seed: '',
  roundIntervalMs: 3000,
  sampleSize: 50,
  timeoutMs: 12_000,
  revealEveryRounds: 10,
  videoShare: 20,
  chainEndpoint: '',
  netuid: 2,
  hotkeyUri: '',
  keystore: '',
  keystorePassword: '',
  weightsIntervalMs: 60_000,
  logLevel: 'info',
  copyPolicy: 'flag',
  unpublishedShare: 1,
  taeModels: '',
  realPool: '',
  generatedReal: 50,
  generatedSynthetic: 50,
  generatedSemisynthetic: 50,
  generatedAhead: 24,
  generatorThreads: 1,
  realClips: '',
  generatedVideo: 50,
  generatedVideoAhead: 6,
};

/** flag name -> [config key, environment variable, what it means (for --help)] */
const FIELDS: Record<string, [keyof ValidatorConfig, string | null, string]> = {
  dataset: [
    'dataset',
    'VERACITY_DATASET',
    'labelled media folder with manifest.csv: the challenges (npm run dataset builds one)',
  ],
  db: ['db', 'VERACITY_DB', 'SQLite file for miners, answers, scores and weights; kept across restarts'],
  host: ['host', 'VERACITY_HOST', 'interface to listen on (0.0.0.0 for miners on other machines)'],
  port: ['port', 'VERACITY_PORT', 'port for miners (ws://HOST:PORT/), the status page, /api/status and /metrics'],
  seed: ['seed', 'VERACITY_SEED', 'challenge stream seed; empty: a fresh secret one per start (keep a set one private)'],
  'round-interval-ms': ['roundIntervalMs', 'VERACITY_ROUND_INTERVAL_MS', 'time between challenge rounds'],
  'sample-size': ['sampleSize', 'VERACITY_SAMPLE_SIZE', 'miners challenged per round'],
  'timeout-ms': ['timeoutMs', 'VERACITY_TIMEOUT_MS', 'time a miner has to answer; a late answer counts as confidently wrong'],
  'reveal-every-rounds': [
    'revealEveryRounds',
    'VERACITY_REVEAL_EVERY_ROUNDS',
    'rounds per label reveal window: miners get the labels and salts of their closed challenges this often',
  ],
  'video-share': [
    'videoShare',
    'VERACITY_VIDEO_SHARE',
    'percent of challenges that are video clips (0-100); 0 sends images only, for slow miners',
  ],
  chain: ['chainEndpoint', 'VERACITY_CHAIN', 'subtensor websocket (ws:// or wss://); empty: score miners without a chain'],
  netuid: ['netuid', 'VERACITY_NETUID', 'the subnet: only hotkeys registered on it may mine, weights are set on it'],
  keystore: ['keystore', 'VERACITY_KEYSTORE', 'polkadot-js JSON keystore of the hotkey (password in VERACITY_KEYSTORE_PASSWORD)'],
  'weights-interval-ms': ['weightsIntervalMs', 'VERACITY_WEIGHTS_INTERVAL_MS', 'how often weights are computed and set on chain'],
  'log-level': ['logLevel', 'VERACITY_LOG_LEVEL', 'debug, info, warn or error (JSON lines on stderr)'],
  'copy-policy': [
    'copyPolicy',
    'VERACITY_COPY_POLICY',
    "flag: show hotkey groups that copy answers; share: also give each group one miner's share of the weights",
  ],
  'unpublished-share': [
    'unpublishedShare',
    'VERACITY_UNPUBLISHED_SHARE',
    'multiplies the weight of a miner not running a bundle it published on chain (0..1); 0 makes the model channel trustworthy',
  ],
  'tae-models': [
    'taeModels',
    'VERACITY_TAE_MODELS',
    'TAE round-trip models (python3 -m models.train tae --export DIR): the validator makes fresh AI challenges itself; empty: static only',
  ],
  'real-pool': [
    'realPool',
    'VERACITY_REAL_POOL',
    "your own private folder of real photos generated challenges are made from (never publish it); empty: the dataset's real images",
  ],
  'generated-real': ['generatedReal', 'VERACITY_GENERATED_REAL', 'percent of real image challenges that are pool photos (0-100)'],
  'generated-synthetic': [
    'generatedSynthetic',
    'VERACITY_GENERATED_SYNTHETIC',
    'percent of synthetic image challenges that are full-frame round trips (0-100)',
  ],
  'generated-semisynthetic': [
    'generatedSemisynthetic',
    'VERACITY_GENERATED_SEMISYNTHETIC',
    'percent of semisynthetic image challenges that are region round trips (0-100)',
  ],
  'generated-ahead': [
    'generatedAhead',
    'VERACITY_GENERATED_AHEAD',
    'generated items kept ready; a draw that finds none ready is served static (counted as a fallback)',
  ],
  'generator-threads': ['generatorThreads', 'VERACITY_GENERATOR_THREADS', 'threads of the niced round-trip process'],
  'real-clips': [
    'realClips',
    'VERACITY_REAL_CLIPS',
    "your own private folder of real video clips generated video challenges are made from; empty: the dataset's real clips",
  ],
  'generated-video': [
    'generatedVideo',
    'VERACITY_GENERATED_VIDEO',
    'percent of video challenges of every label made from real clips (real, or every frame round-tripped: synthetic, semisynthetic); 0: static clips only',
  ],
  'generated-video-ahead': [
    'generatedVideoAhead',
    'VERACITY_GENERATED_VIDEO_AHEAD',
    'generated clips kept ready (8 round trips each); a draw that finds none ready is served static (a fallback)',
  ],
};
/** Numbers that may have a fraction (the others are whole). */
const FRACTIONS = new Set<keyof ValidatorConfig>(['unpublishedShare']);
/** Secrets come from the environment only. */
const SECRET_ENV: Partial<Record<keyof ValidatorConfig, string>> = {
  hotkeyUri: 'VERACITY_HOTKEY_URI',
  keystorePassword: 'VERACITY_KEYSTORE_PASSWORD',
};

const METAVAR: Record<string, string> = {
  dataset: 'DIR',
  db: 'FILE',
  host: 'HOST',
  seed: 'TEXT',
  chain: 'URL',
  keystore: 'FILE',
  'log-level': 'LEVEL',
  'unpublished-share': 'X',
  'tae-models': 'DIR',
  'real-pool': 'DIR',
  'real-clips': 'DIR',
};

export const HELP = `usage: veracity-validator [--config FILE] [options]

Challenges miners with labelled media, scores them (sn34) and sets weights on a subtensor chain. Each option is a
flag, a VERACITY_* variable or a key of the JSON --config file (VERACITY_CONFIG); flags win over the environment,
the environment over the file.

${Object.entries(FIELDS)
  .map(
    ([flag, [key, env, what]]) =>
      `  --${`${flag} ${METAVAR[flag] ?? 'N'}`.padEnd(24)} ${what}\n${' '.repeat(29)}[${env}, default ${JSON.stringify(DEFAULTS[key])}]`,
  )
  .join('\n')}
  --config FILE              JSON file with any of the options above by their camelCase name (e.g. {"videoShare": 0})
  -h, --help                 this text

Secrets, from the environment only (never a flag, which would land in shell history and ps):
  VERACITY_HOTKEY_URI        the hotkey as a secret URI or mnemonic (without one: the public dev key //Alice)
  VERACITY_KEYSTORE_PASSWORD the password of --keystore`;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export function resolveConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): ValidatorConfig | 'help' {
  const values = parseCli('veracity-validator', argv, {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...Object.fromEntries(Object.keys(FIELDS).map((f) => [f, { type: 'string' as const }])),
  });
  if (values.help) return 'help';
  const problems: string[] = [];
  const raw: Record<string, unknown> = { ...DEFAULTS };
  const file = (values.config as string | undefined) ?? env.VERACITY_CONFIG;
  if (file) {
    try {
      const parsed = JSON.parse(readFile(file)) as Record<string, unknown>;
      for (const [k, v] of Object.entries(parsed)) {
        if (!(k in DEFAULTS)) problems.push(`${file}: unknown key "${k}"`);
        else if (k in SECRET_ENV)
          problems.push(`${file}: "${k}" is a secret: set ${SECRET_ENV[k as keyof ValidatorConfig]} instead`);
        else raw[k] = v;
      }
    } catch (e) {
      problems.push(`cannot read config file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const [flag, [key, envName]] of Object.entries(FIELDS)) {
    if (envName && env[envName] !== undefined) raw[key] = env[envName];
    const v = (values as Record<string, unknown>)[flag];
    if (v !== undefined) raw[key] = v;
  }
  for (const [key, envName] of Object.entries(SECRET_ENV)) if (env[envName!] !== undefined) raw[key] = env[envName!];

  const out = { ...DEFAULTS } as Record<string, unknown>;
  for (const key of Object.keys(DEFAULTS) as Array<keyof ValidatorConfig>) {
    const v = raw[key];
    if (typeof DEFAULTS[key] === 'number') {
      const n = typeof v === 'number' ? v : Number(v);
      if (FRACTIONS.has(key)) {
        if (!Number.isFinite(n) || n < 0 || n > 1 || v === '')
          problems.push(`${key} must be a number from 0 to 1, got ${JSON.stringify(v)}`);
      } else if (!Number.isInteger(n) || n < 0) problems.push(`${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
      out[key] = n;
    } else out[key] = String(v);
  }
  const c = out as unknown as ValidatorConfig;
  if (c.port > 65535) problems.push(`port ${c.port} is out of range`);
  if (c.sampleSize < 1) problems.push('sampleSize must be at least 1');
  if (c.timeoutMs < 100) problems.push('timeoutMs must be at least 100');
  if (c.revealEveryRounds < 1) problems.push('revealEveryRounds must be at least 1');
  if (c.videoShare > 100) problems.push(`videoShare is a percentage (0-100), got ${c.videoShare}`);
  for (const k of ['generatedReal', 'generatedSynthetic', 'generatedSemisynthetic', 'generatedVideo'] as const)
    if (c[k] > 100) problems.push(`${k} is a percentage (0-100), got ${c[k]}`);
  if (c.realPool && !c.taeModels)
    problems.push('realPool needs taeModels: pool photos served only as real would make "from the pool" mean "real"');
  if (c.realClips && !c.taeModels)
    problems.push('realClips needs taeModels: pool clips served only as real would make "from the pool" mean "real"');
  if (c.taeModels && c.generatedAhead < 1) problems.push('generatedAhead must be at least 1');
  if (c.taeModels && c.generatedVideo > 0 && c.generatedVideoAhead < 1)
    problems.push('generatedVideoAhead must be at least 1 (or set generatedVideo 0)');
  if (c.generatorThreads < 1) problems.push('generatorThreads must be at least 1');
  if (c.netuid > 65535) problems.push(`netuid ${c.netuid} is out of range`);
  if (!['flag', 'share'].includes(c.copyPolicy)) problems.push(`copyPolicy must be flag or share, got ${c.copyPolicy}`);
  if (!['debug', 'info', 'warn', 'error'].includes(c.logLevel)) problems.push(`logLevel must be debug, info, warn or error`);
  if (c.chainEndpoint && !/^wss?:\/\//.test(c.chainEndpoint))
    problems.push(`chain endpoint must be ws:// or wss://, got ${c.chainEndpoint}`);
  if (c.chainEndpoint && !c.hotkeyUri && !c.keystore)
    problems.push('a chain endpoint needs a hotkey: VERACITY_HOTKEY_URI or --keystore');
  if (c.keystore && !c.keystorePassword) problems.push('--keystore needs VERACITY_KEYSTORE_PASSWORD');
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}

/** The config with secrets masked, for logs and the status page. */
export function redact(c: ValidatorConfig): Record<string, unknown> {
  return { ...c, hotkeyUri: c.hotkeyUri ? '***' : '', keystorePassword: c.keystorePassword ? '***' : '' };
}
