/**
 * Validator under load: N lightweight miners (default 1000, in a child process) on loopback against one validator.
 * Prints JSON and writes bench/results/validator.json: rounds/s, dispatch-to-recorded latency p50/p99, validator
 * memory, and challenges prepared per second: one item per challenge (draw, decode, cut, encode), and 50 per-miner
 * variants per item (one decode, 50 cuts and encodes), as a round of 50 sampled miners needs.
 *
 *   npx tsx bench/validator.ts [--miners N] [--seconds S] [--dataset DIR]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { percentile } from '@veracity/models';
import { ChallengeDataset, ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from '@veracity/validator/challenges';
import { createLogger, ValidatorServer, createMetrics, Store } from '@veracity/validator';

const { values: args } = parseArgs({
  options: {
    miners: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    dataset: { type: 'string', default: process.env.VERACITY_DATASET ?? '../shared/datasets' },
    out: { type: 'string', default: 'bench/results/validator.json' },
  },
});
const miners = Number(args.miners);
const log = (s: string) => process.stderr.write(`${s}\n`);
await cryptoWaitReady();
const dataset = ChallengeDataset.load(resolve(args.dataset));
const config = { ...DEFAULT_CHALLENGE_CONFIG, seed: 'bench' };

log('challenge preparation ...');
const prepFactory = new ChallengeFactory(dataset, config);
/** Challenges (one miner's variant each) prepared per second when every item is cut into `perItem` variants. */
async function preparationRate(perItem: number): Promise<number> {
  const t0 = performance.now();
  let prepared = 0;
  while (performance.now() - t0 < 10_000) {
    prepared += (await prepFactory.variants(await prepFactory.item(), perItem)).length;
  }
  return prepared / ((performance.now() - t0) / 1000);
}
const preparedPerSecond = await preparationRate(1);
const variantsPerSecond = await preparationRate(50);

const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-bench-')), 'v.db'));
const server = new ValidatorServer({
  host: '127.0.0.1',
  port: 0,
  netuid: 2,
  signer: new Keyring({ type: 'sr25519' }).addFromUri('//Alice'),
  store,
  factory: new ChallengeFactory(dataset, config),
  metrics: createMetrics(),
  log: createLogger('warn'),
  sampleSize: 50,
  timeoutMs: 12_000,
  roundIntervalMs: 0,
  // The whole fleet dials from 127.0.0.1: lift the per-address cap and handshake rate, which would refuse it.
  limits: { maxConnectionsPerIp: Number.POSITIVE_INFINITY, handshakes: { perSecond: 1e9, burst: 1e9 } },
});
const url = await server.listen();
log(`dialling ${miners} miners ...`);
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fleet-miners.ts', url, String(miners)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const dialStart = performance.now();
await new Promise<void>((ok) => child.stdout.on('data', (d) => String(d).includes('ready') && ok()));
const handshakeSeconds = (performance.now() - dialStart) / 1000;
log(`${server.connected().length} connected in ${handshakeSeconds.toFixed(1)} s; running ${args.seconds} s of rounds ...`);
const roundsBefore = server.roundsRun;
const answersBefore = store.counts().answers;
const runStart = performance.now();
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
await new Promise((r) => setTimeout(r, Number(args.seconds) * 1000));
clearInterval(sampler);
const elapsed = (performance.now() - runStart) / 1000;
const rounds = server.roundsRun - roundsBefore;
const latencies = (
  store.db
    .prepare("SELECT latency_ms AS l FROM answers WHERE outcome = 'ok' ORDER BY id DESC LIMIT ?")
    .all(rounds * 50) as Array<{ l: number }>
).map((r) => r.l);
const report = {
  benchmark: 'validator-fleet',
  command: `npx tsx bench/validator.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  miners,
  connected: server.connected().length,
  handshake_seconds: Math.round(handshakeSeconds * 100) / 100,
  rounds_per_second: Math.round((rounds / elapsed) * 100) / 100,
  answers_recorded: store.counts().answers - answersBefore,
  dispatch_to_recorded_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length },
  validator_rss_mb: { end: Math.round(process.memoryUsage().rss / 2 ** 20), peak: Math.round(peakRss / 2 ** 20) },
  challenges_prepared_per_second: Math.round(preparedPerSecond * 100) / 100,
  challenges_prepared_per_second_50_miners_per_item: Math.round(variantsPerSecond * 100) / 100,
  decode_cache: prepFactory.cacheStats,
  note: 'validator and the miner fleet share this machine; sample 50 miners per round; rounds back to back',
};
child.kill('SIGTERM');
await server.close();
store.close();
mkdirSync('bench/results', { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
