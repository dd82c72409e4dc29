/**
 * Validator under load: N lightweight miners (default 1000, in a child process) on loopback against one validator.
 * Prints JSON and writes bench/results/validator.json: rounds/s, dispatch-to-recorded latency p50/p99, validator
 * memory, and challenges prepared per second: one item per challenge (draw, decode, cut, encode), and 50 per-miner
 * variants per item (one decode, 50 cuts and encodes), as a round of 50 sampled miners needs.
 *
 * With --tae-models DIR (tae.py --export DIR) it also measures generated challenges: items/s each autoencoder
 * family makes on its own, then both preparation rates again with generation running in the background (default
 * shares), the fallback share (draws that asked for a generated item and got a static one because none was ready)
 * and the event loop's delay meanwhile; the fleet run then uses the generating factory too.
 *
 * Each preparation rate is measured over --prep-seconds (default 20): a video item is 50 clips of 8 frames, so a
 * short window holds few items and its rate depends on how many of them were videos.
 *
 *   npx tsx bench/validator.ts [--miners N] [--seconds S] [--prep-seconds S] [--dataset DIR]
 *     [--tae-models DIR [--real-pool DIR]]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { percentile } from '@veracity/models';
import { ChallengeDataset, ChallengeFactory, DEFAULT_CHALLENGE_CONFIG } from '@veracity/validator/challenges';
import { createLogger, ValidatorServer, createMetrics, Store } from '@veracity/validator';
import {
  datasetPool,
  folderPool,
  GeneratedSource,
  generatedDemand,
  loadTaeModels,
  Rng,
  TaeRunner,
} from '@veracity/validator/challenges';

const { values: args } = parseArgs({
  options: {
    miners: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    'prep-seconds': { type: 'string', default: '20' },
    dataset: { type: 'string', default: process.env.VERACITY_DATASET ?? '../shared/datasets' },
    out: { type: 'string', default: 'bench/results/validator.json' },
    'tae-models': { type: 'string' },
    'real-pool': { type: 'string' },
    'items-per-family': { type: 'string', default: '4' },
  },
});
const miners = Number(args.miners);
const prepMs = Number(args['prep-seconds']) * 1000;
const loadBefore = loadavg();
const log = (s: string) => process.stderr.write(`${s}\n`);
await cryptoWaitReady();
const dataset = ChallengeDataset.load(resolve(args.dataset));
const config = { ...DEFAULT_CHALLENGE_CONFIG, seed: 'bench' };

log('challenge preparation ...');
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const round2 = (x: number) => Math.round(x * 100) / 100;
/** Challenges (one miner's variant each) prepared per second when every item is cut into `perItem` variants. */
async function preparationRate(factory: ChallengeFactory, perItem: number): Promise<number> {
  const t0 = performance.now();
  let prepared = 0;
  while (performance.now() - t0 < prepMs) {
    prepared += (await factory.variants(await factory.item(), perItem)).length;
  }
  return prepared / ((performance.now() - t0) / 1000);
}
/** `fn` with the event loop's delay sampled meanwhile (p99 and max, ms). */
async function withLoopDelay<T>(fn: () => Promise<T>): Promise<[T, { p99_ms: number; max_ms: number }]> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const out = await fn();
  h.disable();
  return [out, { p99_ms: round2(h.percentile(99) / 1e6), max_ms: round2(h.max / 1e6) }];
}
const prepFactory = new ChallengeFactory(dataset, config);
const [[preparedPerSecond, variantsPerSecond], loopDelayStatic] = await withLoopDelay(async () => [
  await preparationRate(prepFactory, 1),
  await preparationRate(prepFactory, 50),
]);
log(
  `  static only: ${round2(preparedPerSecond)}/s one per item, ${round2(variantsPerSecond)}/s 50 per item; loop ${JSON.stringify(loopDelayStatic)}`,
);

let generation: Record<string, unknown> | null = null;
let fleetGenerated: GeneratedSource | undefined;
let runner: TaeRunner | undefined;
const shares = DEFAULT_CHALLENGE_CONFIG.generatedShare;
const demand = generatedDemand(config);
const makePool = async () => (args['real-pool'] ? folderPool(args['real-pool']) : datasetPool(dataset));
if (args['tae-models']) {
  const models = loadTaeModels(args['tae-models']);
  runner = new TaeRunner(models);
  // Each family's own speed, at the bench's priority: the validator's runner is niced, and on a shared machine a
  // niced process measures the other jobs, not the model.
  const alone = new TaeRunner(models, 1, 0);
  const perFamily = Number(args['items-per-family']);
  log(`generation: ${perFamily} items per family, one at a time, not niced ...`);
  const families: Record<string, unknown> = {};
  for (const f of runner.families) {
    // One family only: every synthetic item goes through it (the first item also loads its session).
    const only = { families: [f], roundTrip: alone.roundTrip.bind(alone) };
    const source = new GeneratedSource(await makePool(), only, { seed: 'bench', ahead: 1, demand });
    await source.make('synthetic', new Rng('warm'));
    const sides: number[] = [];
    const before = { ...alone.runSeconds[f]! };
    const t0 = performance.now();
    for (let i = 0; i < perFamily; i++) sides.push((await source.make('synthetic', new Rng(`${f}-${i}`))).frame.width);
    const seconds = (performance.now() - t0) / 1000;
    families[f] = {
      items_per_second: round2(perFamily / seconds),
      mean_side_px: Math.round(sides.reduce((a, b) => a + b, 0) / sides.length),
      model_seconds_per_item: round2((alone.runSeconds[f]!.seconds - before.seconds) / (alone.runSeconds[f]!.n - before.n)),
    };
    log(`  ${f}: ${JSON.stringify(families[f])}`);
  }
  await alone.close();
  log('challenge preparation with generation in the background (niced) ...');
  const background = new GeneratedSource(await makePool(), runner, { seed: 'bench-bg', ahead: 24, demand });
  background.start();
  // Measured from full queues, as a validator runs once started (its first rounds may fall back while they fill).
  const fillStart = performance.now();
  await background.whenFull();
  const fillSeconds = (performance.now() - fillStart) / 1000;
  const genFactory = new ChallengeFactory(dataset, config, background);
  const [[withGen1, withGen50], loopDelay] = await withLoopDelay(async () => [
    await preparationRate(genFactory, 1),
    await preparationRate(genFactory, 50),
  ]);
  // Demand far above what generation makes: images only, one variant per item, drawn as fast as they come. The draw
  // must not slow down to generation's pace; what generation cannot cover is served static and counted.
  const imagesOnly = { ...config, modalityMix: { image: 1, video: 0 } };
  const drawRate = async (factory: ChallengeFactory) => {
    const t0 = performance.now();
    let items = 0;
    for (; performance.now() - t0 < prepMs; items++) await factory.variants(await factory.item(), 1);
    return items / ((performance.now() - t0) / 1000);
  };
  const staticImages = await drawRate(new ChallengeFactory(dataset, { ...imagesOnly, seed: 'bench-images' }));
  const stressFactory = new ChallengeFactory(dataset, { ...imagesOnly, seed: 'bench-stress' }, background);
  const [stressRate, stressLoop] = await withLoopDelay(() => drawRate(stressFactory));
  const stressServed = sum(stressFactory.origins.generated);
  const stressFallbacks = sum(stressFactory.origins.fallback);
  const served = sum(genFactory.origins.generated);
  const fallbacks = sum(genFactory.origins.fallback);
  await background.close();
  generation = {
    tae_models: args['tae-models'],
    pool: args['real-pool'] ? 'folder' : 'dataset real images',
    shares,
    per_family_alone: families,
    with_generation_in_background: {
      challenges_prepared_per_second: round2(withGen1),
      challenges_prepared_per_second_50_miners_per_item: round2(withGen50),
      seconds_to_fill_24_ahead_from_cold: round2(fillSeconds),
      items: sum(genFactory.origins.static) + served + fallbacks,
      generated_served: served,
      fallbacks,
      fallback_share: served + fallbacks ? round2(fallbacks / (served + fallbacks)) : 0,
      event_loop_delay: loopDelay,
    },
    images_drawn_as_fast_as_possible: {
      static_only_items_per_second: round2(staticImages),
      with_generation_items_per_second: round2(stressRate),
      generated_served: stressServed,
      fallbacks: stressFallbacks,
      fallback_share: round2(stressFallbacks / Math.max(1, stressServed + stressFallbacks)),
      event_loop_delay: stressLoop,
    },
    generated_made: background.status().made,
  };
  log(`  ${JSON.stringify(generation.with_generation_in_background)}`);
  log(`  ${JSON.stringify(generation.images_drawn_as_fast_as_possible)}`);
  fleetGenerated = new GeneratedSource(await makePool(), runner, { seed: 'bench-fleet', ahead: 24, demand });
  fleetGenerated.start();
}

const fleetFactory = new ChallengeFactory(dataset, config, fleetGenerated);
const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-bench-')), 'v.db'));
const server = new ValidatorServer({
  host: '127.0.0.1',
  port: 0,
  netuid: 2,
  signer: new Keyring({ type: 'sr25519' }).addFromUri('//Alice'),
  store,
  factory: fleetFactory,
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
  // 1-minute load average at the start and the end: the machine is shared, and every rate here depends on it.
  load_average: { start: round2(loadBefore[0]!), end: round2(loadavg()[0]!) },
  miners,
  connected: server.connected().length,
  handshake_seconds: Math.round(handshakeSeconds * 100) / 100,
  rounds_per_second: Math.round((rounds / elapsed) * 100) / 100,
  answers_recorded: store.counts().answers - answersBefore,
  dispatch_to_recorded_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length },
  validator_rss_mb: { end: Math.round(process.memoryUsage().rss / 2 ** 20), peak: Math.round(peakRss / 2 ** 20) },
  challenges_prepared_per_second: Math.round(preparedPerSecond * 100) / 100,
  challenges_prepared_per_second_50_miners_per_item: Math.round(variantsPerSecond * 100) / 100,
  event_loop_delay_preparing: loopDelayStatic,
  decode_cache: prepFactory.cacheStats,
  generation: generation && {
    ...generation,
    fleet_run: {
      generated_served: sum(fleetFactory.origins.generated),
      fallbacks: sum(fleetFactory.origins.fallback),
      fallback_share: round2(
        sum(fleetFactory.origins.fallback) /
          Math.max(1, sum(fleetFactory.origins.generated) + sum(fleetFactory.origins.fallback)),
      ),
      generated_made: fleetGenerated!.status().made,
    },
  },
  note: 'validator and the miner fleet share this machine; sample 50 miners per round; rounds back to back',
};
child.kill('SIGTERM');
await server.close();
await fleetGenerated?.close();
await runner?.close();
store.close();
mkdirSync('bench/results', { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
