/**
 * What a newcomer sees while `npm start` works: numbered steps with their time, sub-progress lines, a clear failure
 * naming the step, and the final table of URLs. Pure: the sink and the clock are passed in.
 */

import { formatWeight } from '@veracity/protocol/weights';

export interface Missing {
  /** The piece that is absent ("dataset", "chain spec", …). */
  piece: string;
  detail: string;
  /** What to run or set to fix it. */
  fix: string;
}

export interface Probe {
  exists(path: string): boolean;
  /** True when a command is on PATH. */
  onPath(command: string): boolean;
}

export interface PreflightInput {
  dataset: string;
  chainSpec: string;
  chainSpecSha256: string;
  bundle: string;
  build: boolean;
  root: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Every missing input at once, each with its fix, so a fresh machine needs one round of fixing, not five. */
export function preflight(input: PreflightInput, probe: Probe): Missing[] {
  const missing: Missing[] = [];
  if (!probe.exists(`${input.dataset}/manifest.csv`)) {
    missing.push({
      piece: 'dataset',
      detail: `no manifest.csv in ${input.dataset}`,
      fix:
        'point VERACITY_DATASET (or --dataset) at a labelled folder with a manifest.csv, or build one with ' +
        '`npm run dataset -- --sources FILE --out DIR` (see models/README.md, "Datasets")',
    });
  }
  if (isUrl(input.chainSpec)) {
    if (!input.chainSpecSha256)
      missing.push({
        piece: 'chain spec',
        detail: `${input.chainSpec} is a URL without a sha256`,
        fix: 'pass --chain-spec-sha256 HEX (or VERACITY_CHAIN_SPEC_SHA256) so the download can be checked',
      });
  } else if (!probe.exists(input.chainSpec)) {
    missing.push({
      piece: 'chain spec',
      detail: `no raw chain spec at ${input.chainSpec}`,
      fix: 'set VERACITY_CHAIN_SPEC (or --chain-spec) to a raw subtensor spec file, or to its URL with --chain-spec-sha256',
    });
  }
  for (const f of ['manifest.json', 'model.onnx']) {
    if (!probe.exists(`${input.bundle}/${f}`))
      missing.push({
        piece: 'model bundle',
        detail: `no ${f} in ${input.bundle}`,
        fix: 'set VERACITY_BUNDLE (or --bundle) to a bundle folder; the committed one is models/bundle',
      });
  }
  if (!probe.onPath('ffmpeg'))
    missing.push({
      piece: 'ffmpeg',
      detail: 'ffmpeg is not on PATH (video challenges need it)',
      fix: 'run `bash scripts/setup.sh`',
    });
  if (!probe.exists(`${input.root}/node_modules/.package-lock.json`))
    missing.push({ piece: 'npm packages', detail: 'node_modules is not installed', fix: 'run `bash scripts/setup.sh`' });
  if (input.build) {
    for (const pkg of ['web-miner', 'extension']) {
      if (!probe.exists(`${input.root}/${pkg}/vite.config.ts`))
        missing.push({ piece: pkg, detail: `${pkg}/vite.config.ts is missing`, fix: 'restore it from git, or pass --no-build' });
    }
  }
  return missing;
}

export function formatMissing(missing: Missing[]): string {
  const lines = missing.map((m) => `  - ${m.piece}: ${m.detail}\n    fix: ${m.fix}`);
  return `npm start cannot begin; ${missing.length === 1 ? 'one piece is' : `${missing.length} pieces are`} missing:\n${lines.join('\n')}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

export class StepError extends Error {
  override name = 'StepError';
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Numbered steps: `[2/5] validator …`, then `[2/5] validator: ready (3.1 s)` or the failure. */
export class Steps {
  private n = 0;
  constructor(
    private readonly total: number,
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async run<T>(name: string, fn: (note: (text: string) => void) => Promise<T>, done?: (value: T) => string): Promise<T> {
    const tag = `[${++this.n}/${this.total}] ${name}`;
    const t0 = this.now();
    this.write(`${tag} …`);
    try {
      const value = await fn((text) => this.write(`      ${text}`));
      const extra = done ? done(value) : 'ready';
      this.write(`${tag}: ${extra} (${formatMs(this.now() - t0)})`);
      return value;
    } catch (e) {
      this.write(`${tag}: FAILED after ${formatMs(this.now() - t0)}`);
      throw e instanceof StepError ? e : new StepError(name, e);
    }
  }
}

export interface RunSummary {
  chain: { endpoint: string; netuid: number; validatorUid: number; validatorHotkey: string; resumed: boolean };
  validator: { ws: string; status: string; metrics: string };
  /** The headless Node miners, each with the bundle it published on chain and answers with. */
  nodeMiners: Array<{ uri: string; uid: number; bundle: { id: string; version: string; sha256: string; url: string } }>;
  webMiner: { url: string; devUri: string | null; devUid: number | null } | null;
  extension: { dir: string } | null;
  stateDir: string;
  tookMs: number;
}

/** The closing text: where everything is and what to do next. */
export function formatSummary(s: RunSummary): string {
  const rows: [string, string][] = [
    [
      'chain',
      `${s.chain.endpoint}  (netuid ${s.chain.netuid}, validator uid ${s.chain.validatorUid}${s.chain.resumed ? ', resumed' : ''})`,
    ],
    ['validator', s.validator.ws],
    ['status page', s.validator.status],
    ['metrics', s.validator.metrics],
  ];
  for (const m of s.nodeMiners)
    rows.push([
      'node miner',
      `${m.uri} (uid ${m.uid}) answering with ${m.bundle.id} ${m.bundle.version}, published at ${m.bundle.url} (sha256 ${m.bundle.sha256.slice(0, 8)}…)`,
    ]);
  if (s.webMiner) {
    const dev = s.webMiner.devUri ? `  (dev account ${s.webMiner.devUri}, uid ${s.webMiner.devUid})` : '';
    rows.push(['web miner', `${s.webMiner.url}${dev}`]);
  }
  if (s.extension) rows.push(['extension', s.extension.dir]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const next = [
    `Open the status page to watch rounds, scores, weights and each miner's published bundle.`,
    s.nodeMiners.length
      ? `Publish your own bundle: npx veracity-bundle publish --bundle DIR --url URL --chain ${s.chain.endpoint} --netuid ${s.chain.netuid} (validator/README.md "Publish your own bundle")`
      : null,
    s.webMiner ? `Open the web miner to mine from this browser tab (a wallet extension, or the dev account shown).` : null,
    s.extension
      ? `Browse with the extension: chrome://extensions -> Developer mode -> Load unpacked -> ${s.extension.dir}`
      : null,
    `State is kept in ${s.stateDir} (npm start -- --fresh forgets it). Ctrl-C stops everything.`,
  ].filter(Boolean);
  return [
    `Veracity local subnet is up (${formatMs(s.tookMs)}):`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    'Next:',
    ...next.map((l) => `  - ${l}`),
  ].join('\n');
}

export interface Heartbeat {
  at: number;
  rounds: number;
  online: number;
  /** What the weights cycle did: 'set', 'committed', 'revealed', 'waiting', 'failed', or undefined without a chain. */
  action?: string;
  ok: boolean;
  detail: string;
  /** Shares of this cycle's weights (largest first is not required: sorted here). */
  weights: Array<{ uid: number | null; hotkey: string | null; share: number }>;
  /** Errors the validator logged since the previous heartbeat, and the last one. */
  errors: number;
  lastError: string | null;
}

const clock = (ms: number) => {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

/**
 * One line per weights cycle once the subnet is up, so a quiet terminal still says it works:
 * `14:05:30 round 42 · 2 miners online · weights set (set at block 120): uid 1 0.664, uid 2 0.336 · no errors`.
 */
export function formatHeartbeat(b: Heartbeat): string {
  const verb =
    b.action === 'failed' || (!b.ok && b.action === undefined)
      ? 'weights not set'
      : b.action === 'waiting'
        ? 'weights not due'
        : `weights ${b.action ?? 'computed'}`;
  const top = [...b.weights].sort((x, y) => y.share - x.share).filter((w) => w.share > 0);
  const shown = top
    .slice(0, 6)
    .map((w) => `${w.uid !== null ? `uid ${w.uid}` : w.hotkey ? `${w.hotkey.slice(0, 6)}…` : '?'} ${formatWeight(w.share)}`);
  if (top.length > 6) shown.push(`+${top.length - 6} more`);
  const weights = b.ok || b.action === 'waiting' ? (shown.length ? `: ${shown.join(', ')}` : '') : '';
  const errors = b.errors === 0 ? 'no errors' : `${b.errors} error${b.errors === 1 ? '' : 's'} (last: ${b.lastError ?? '?'})`;
  return `${clock(b.at)} round ${b.rounds} · ${b.online} miner${b.online === 1 ? '' : 's'} online · ${verb} (${b.detail})${weights} · ${errors}`;
}

/** The chain step's note once chopsticks is up: a resumed chain is only re-checked, which takes seconds, not 30. */
export function chainUpNote(endpoint: string, block: number, resumed: boolean): string {
  return resumed
    ? `chain at ${endpoint}, block ${block}; checking the saved subnet`
    : `chain at ${endpoint}, block ${block}; bootstrapping the subnet (≈30 s on a fresh chain)`;
}
