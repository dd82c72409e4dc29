/**
 * The validator's composition root: config -> store, dataset, challenge factory, metrics, status page, socket server.
 * Everything below receives what it needs as arguments; this is the only place that reads the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, UsageError } from '@veracity/models/cli';
import { type Modality, perModality, weightShares } from '@veracity/protocol';
import { BundleTracker, leaderboard } from './bundle/miner-bundles.js';
import { ChallengeDataset } from './challenges/dataset.js';
import { type ChallengeConfig, ChallengeFactory, DEFAULT_CHALLENGE_CONFIG, generatedDemand } from './challenges/factory.js';
import { ChainSync, type WeightsOutcome } from './chain/chain-sync.js';
import { datasetPool, folderPool, GeneratedSource } from './challenges/generated.js';
import { type ClipPool, datasetClipPool, folderClipPool, GeneratedVideoSource } from './challenges/generated-video.js';
import { loadTaeModels, TaeRunner } from './challenges/tae.js';
import { loadHotkey } from './chain/keys.js';
import { ConfigError, HELP, redact, resolveConfig, type ValidatorConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { ValidatorServer } from './server.js';
import { ensureStatusPage } from './status/build-page.js';
import { statusHandler } from './status/http.js';
import { createMetrics } from './status/metrics.js';
import type { GenerationView, StatusSnapshot } from './status/types.js';
import { Store } from './store.js';
import { WeightHistory } from './weight-history.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunningValidator {
  url: string;
  server: ValidatorServer;
  /** Computes weights from the current scores and sets them (on chain when configured); what the timer does. */
  updateWeights: () => Promise<{ ok: boolean; detail: string } | WeightsOutcome>;
  /** The chain connection (null without a chain endpoint). */
  chain: ChainSync | null;
  close: () => Promise<void>;
}

/** What one weights cycle found and did, for a caller's heartbeat (npm start prints one line per cycle). */
export interface WeightsCycle {
  at: number;
  /** Challenge rounds run since start. */
  rounds: number;
  /** Miners with an authenticated connection now. */
  online: number;
  outcome: { ok: boolean; detail: string } | WeightsOutcome;
  /** The weights of this cycle as shares (see @veracity/protocol weightShares), by uid when known, else by hotkey. */
  weights: Array<{ uid: number | null; hotkey: string | null; share: number }>;
}

export async function runValidator(
  config: ValidatorConfig,
  deps: { log?: Logger; onWeightsCycle?: (cycle: WeightsCycle) => void } = {},
): Promise<RunningValidator> {
  const log = deps.log ?? createLogger(config.logLevel);
  log.info('starting validator', { version: VERSION, config: redact(config) });
  const devKey = !config.hotkeyUri && !config.keystore;
  if (devKey)
    log.warn('no hotkey configured: using the public development key //Alice (fine for a local net, never for a real one)');
  const signer = await loadHotkey(
    devKey ? { uri: '//Alice' } : { uri: config.hotkeyUri, keystore: config.keystore, keystorePassword: config.keystorePassword },
  );
  const store = new Store(config.db);
  const weightHistory = new WeightHistory(store);
  const dataset = ChallengeDataset.load(config.dataset, (r) =>
    log.warn('dataset row left out', { row: r.where, reason: r.reason }),
  );
  // No seed configured: a fresh secret one per start, so miners cannot precompute the stream.
  const seed = config.seed || crypto.randomUUID();
  const challengeConfig = {
    ...DEFAULT_CHALLENGE_CONFIG,
    modalityMix: { image: 100 - config.videoShare, video: config.videoShare },
    generatedShare: {
      real: config.generatedReal,
      synthetic: config.generatedSynthetic,
      semisynthetic: config.generatedSemisynthetic,
    },
    generatedVideoShare: { real: config.generatedVideo, synthetic: config.generatedVideo, semisynthetic: config.generatedVideo },
    seed,
  };
  let generated: GeneratedSource | undefined;
  let generatedVideo: GeneratedVideoSource | undefined;
  let runner: TaeRunner | undefined;
  if (config.taeModels) {
    const models = loadTaeModels(config.taeModels);
    const pool = config.realPool ? await folderPool(config.realPool) : datasetPool(dataset);
    if (!config.realPool)
      log.warn(
        "generated challenges are made from the dataset's real images: a private --real-pool of your own photos cannot be looked up",
      );
    runner = new TaeRunner(models, config.generatorThreads);
    generated = new GeneratedSource(pool, runner, {
      seed,
      ahead: config.generatedAhead,
      demand: generatedDemand(challengeConfig),
    });
    generated.start();
    log.info('generating challenges in the background', {
      families: runner.families,
      pool: pool.kind,
      photos: pool.size,
      share: challengeConfig.generatedShare,
      ahead: generated.capacity,
    });
    generatedVideo = await startVideoGeneration(config, challengeConfig, dataset, runner, log);
  }
  const stopGeneration = async () => {
    await generated?.close();
    await generatedVideo?.close();
    await runner?.close();
  };
  const factory = new ChallengeFactory(dataset, challengeConfig, generated, generatedVideo);
  /** What a source served, and the draws that asked it and got a static item because none was ready. */
  const servedView = (modality: Modality) => {
    const served = factory.modalityOrigins[modality].generated;
    const fallbacks = factory.modalityOrigins[modality].fallback;
    const asked = [...Object.values(served), ...Object.values(fallbacks)].reduce((a, b) => a + b, 0);
    const missed = Object.values(fallbacks).reduce((a, b) => a + b, 0);
    return { served, fallbacks, fallbackShare: asked ? missed / asked : 0 };
  };
  const generationView = (): GenerationView | null => {
    if (!generated) return null;
    return {
      ...generated.status(),
      ...servedView('image'),
      video: generatedVideo ? { ...generatedVideo.status(), ...servedView('video') } : null,
    };
  };
  const metrics = createMetrics(generationView);
  const pageDir = await ensureStatusPage().catch((e: unknown) => {
    log.warn('status page unavailable', { error: e instanceof Error ? e.message : String(e) });
    return null;
  });
  const chain = config.chainEndpoint
    ? new ChainSync({ endpoint: config.chainEndpoint, netuid: config.netuid, signer, version: VERSION, store, log })
    : null;
  if (chain) {
    try {
      await chain.start();
    } catch (e) {
      await stopGeneration();
      store.close();
      throw new Error(
        `cannot use the chain at ${config.chainEndpoint} (netuid ${config.netuid}): ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
  }
  const bundles = new BundleTracker({
    ...(chain ? { commitment: chain.commitment, recheck: chain.recheckCommitments } : {}),
    unpublishedShare: config.unpublishedShare,
    log,
    onMismatch: (hotkey) => metrics.bundleMismatches.inc({ hotkey }),
  });
  const startedAt = Date.now();
  const snapshot = (server: ValidatorServer): StatusSnapshot => {
    const scores = server.scores();
    const copying = server.copying();
    const groupOf = new Map(copying.groups.flatMap((g) => g.map((h) => [h, g.length] as const)));
    const connected = new Set(server.connected());
    const weights = weightHistory.recent(200);
    const snap: StatusSnapshot = {
      validator: { version: VERSION, hotkey: signer.address, netuid: config.netuid, startedAt },
      chain: {
        endpoint: config.chainEndpoint || null,
        connected: false,
        block: null,
        disconnectedSince: null,
        reconnectAttempts: 0,
        lastError: null,
        commitReveal: null,
        pendingCommits: [],
        nextWeightsBlock: null,
        ...chain?.status(),
        lastWeights: weights.at(-1) ?? null,
      },
      rounds: server.roundsRun,
      miners: store.miners().map((m) => {
        const s = scores.get(m.hotkey);
        const per = s?.detail.modalities;
        return {
          hotkey: m.hotkey,
          uid: m.uid,
          connected: connected.has(m.hotkey),
          answers: perModality((k) => per?.[k].n ?? 0),
          scores: { ...perModality((k) => (per?.[k].scored ? per[k].sn34 : null)), total: s?.score ?? 0 },
          weight: s?.weight ?? 0,
          lastSeen: m.lastSeen,
          ...(groupOf.has(m.hotkey) ? { copyGroup: groupOf.get(m.hotkey)! } : {}),
          bundle: bundles.of(m.hotkey),
        };
      }),
      weights,
      unreadable: factory.unreadable,
      generation: generationView(),
      copying: {
        policy: config.copyPolicy,
        groups: copying.groups.map((hotkeys, i) => {
          const inGroup = new Set(hotkeys);
          const links = copying.pairs.filter((p) => p.flagged && inGroup.has(p.a) && inGroup.has(p.b));
          const leader = copying.leaders[i];
          return {
            hotkeys,
            ...(leader === undefined ? {} : { leader }),
            shared: Math.min(...links.map((p) => p.shared)),
            z: Math.min(...links.map((p) => p.z)),
            medianGap: Math.max(...links.map((p) => p.medianGap)),
          };
        }),
      },
      bundles: { unpublishedShare: config.unpublishedShare, leaderboard: [] },
    };
    snap.bundles.leaderboard = leaderboard(snap.miners);
    return snap;
  };
  const server: ValidatorServer = new ValidatorServer({
    host: config.host,
    port: config.port,
    netuid: config.netuid,
    signer,
    store,
    factory,
    metrics,
    log,
    sampleSize: config.sampleSize,
    timeoutMs: config.timeoutMs,
    roundIntervalMs: config.roundIntervalMs,
    revealEveryRounds: config.revealEveryRounds,
    copy: { policy: config.copyPolicy },
    bundles,
    // The status handler runs only after listen(), by which time `server` is initialised.
    ...(chain ? { registration: chain.registration } : {}),
    http: statusHandler({ metrics, snapshot: () => snapshot(server), pageDir }),
  });
  const url = await server.listen();
  const updateWeights = async (): Promise<{ ok: boolean; detail: string } | WeightsOutcome> => {
    const weights = new Map([...server.scores()].map(([k, v]) => [k, v.weight]));
    if (chain) {
      const outcome = await chain.updateWeights(weights);
      metrics.weightsSet.inc({ status: outcome.action });
      return outcome;
    }
    return weightHistory.recordLocal(weights, Date.now());
  };
  const cycleWeights = (outcome: { ok: boolean; detail: string } | WeightsOutcome): WeightsCycle['weights'] => {
    const sent = 'uids' in outcome && outcome.uids && outcome.values ? outcome : null;
    if (sent) {
      const shares = weightShares(sent.uids!.map((u, i) => [u, sent.values![i] ?? 0] as const));
      return [...shares].map(([uid, share]) => ({ uid, hotkey: null, share }));
    }
    // No chain (or nothing sent): the scores' own shares, by hotkey.
    return [...server.scores()].map(([hotkey, s]) => ({ uid: null, hotkey, share: s.weight }));
  };
  let updating = false;
  const weightsTimer = setInterval(() => {
    if (updating) return;
    updating = true;
    updateWeights()
      .catch((e: unknown) => {
        const detail = e instanceof Error ? e.message : String(e);
        log.error('weights update failed', { error: detail });
        return { ok: false, detail };
      })
      .then((outcome) =>
        deps.onWeightsCycle?.({
          at: Date.now(),
          rounds: server.roundsRun,
          online: server.connected().length,
          outcome,
          weights: cycleWeights(outcome),
        }),
      )
      .finally(() => (updating = false));
  }, config.weightsIntervalMs);
  const httpUrl = url.replace(/^ws/, 'http');
  log.info('validator ready', { miners: url, status: httpUrl, metrics: `${httpUrl}metrics` });
  return {
    url,
    server,
    updateWeights,
    chain,
    close: async () => {
      clearInterval(weightsTimer);
      await server.close();
      await stopGeneration();
      await chain?.close();
      store.close();
      log.info('validator stopped');
    },
  };
}

/**
 * The generated video source, started, when video is served and generated (video generation is on by default
 * whenever TAE models are given); undefined otherwise. Clips come from --real-clips, or the dataset's real clips (a
 * warning: those are public). A dataset without real clips and no --real-clips leaves video static, with a warning.
 */
async function startVideoGeneration(
  config: ValidatorConfig,
  challengeConfig: ChallengeConfig,
  dataset: ChallengeDataset,
  runner: TaeRunner,
  log: Logger,
): Promise<GeneratedVideoSource | undefined> {
  if (config.videoShare === 0 || config.generatedVideo === 0) return undefined;
  let pool: ClipPool;
  if (config.realClips) pool = await folderClipPool(config.realClips);
  else if (dataset.count('real', 'video') === 0) {
    log.warn('no real clips to generate video challenges from: video challenges stay static (pass --real-clips DIR)');
    return undefined;
  } else {
    pool = datasetClipPool(dataset);
    log.warn(
      "generated video challenges are made from the dataset's real clips: a private --real-clips folder cannot be looked up",
    );
  }
  const source = new GeneratedVideoSource(pool, runner, {
    seed: challengeConfig.seed,
    ahead: config.generatedVideoAhead,
    demand: generatedDemand(challengeConfig, challengeConfig.generatedVideoShare),
    frames: challengeConfig.videoFrames,
  });
  source.start();
  log.info('generating video challenges in the background', {
    pool: pool.kind,
    clips: pool.size,
    share: config.generatedVideo,
    ahead: source.capacity,
  });
  return source;
}

const PROGRAM = 'veracity-validator';

/** A start-up failure the operator can fix (a port, a dataset, a chain endpoint) as a UsageError with that fix. */
function startupProblem(e: unknown, config: ValidatorConfig): unknown {
  const message = e instanceof Error ? e.message : String(e);
  if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE' || /EADDRINUSE/.test(message))
    return new UsageError(
      `port ${config.port} on ${config.host} is already in use`,
      'stop what listens there (another validator or npm start?), or pass --port N (VERACITY_PORT)',
    );
  if (message.startsWith('cannot use the chain'))
    return new UsageError(
      message,
      'check that --chain (VERACITY_CHAIN) is a running subtensor node and --netuid an existing subnet',
    );
  if (message.startsWith('E_TAE_MODELS'))
    return new UsageError(
      message,
      'export the models with /usr/bin/python3 -m models.train tae --export DIR and pass --tae-models DIR (empty: static challenges only)',
    );
  if (message.startsWith('E_REAL_POOL'))
    return new UsageError(
      message,
      'pass --real-pool DIR, a folder of your own real photos (or leave it empty to use the dataset)',
    );
  if (/keystore|secret|mnemonic|password/i.test(message))
    return new UsageError(message, 'check VERACITY_HOTKEY_URI, or --keystore and VERACITY_KEYSTORE_PASSWORD');
  return e;
}

export async function main(argv: string[]): Promise<void> {
  await runCli(PROGRAM, async () => {
    let config: ValidatorConfig | 'help';
    try {
      config = resolveConfig(argv, process.env, (p) => readFileSync(p, 'utf8'));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new UsageError(
        `invalid configuration: ${e.problems.join('; ')}`,
        `set each by flag, VERACITY_* variable or --config file (${PROGRAM} --help lists them)`,
      );
    }
    if (config === 'help') return void console.log(HELP);
    if (!existsSync(join(config.dataset, 'manifest.csv')))
      throw new UsageError(
        `no dataset at ${config.dataset} (no manifest.csv there)`,
        'pass --dataset DIR (VERACITY_DATASET), a labelled folder with manifest.csv; npm run dataset builds one',
      );
    const cfg = config;
    const log = createLogger(config.logLevel);
    // Last line of defence: every request and frame handler catches its own errors, so reaching here is a bug. The
    // state that matters is in SQLite (answers are committed as they arrive), so logging and going on loses nothing
    // that exiting would keep, while exiting would hand any peer who finds such a bug a remote off switch.
    // A log stream that breaks (stderr piped into a reader that quit: EPIPE) must not become an uncaught error that
    // logs to the same stream, which would spin forever.
    process.stderr.on('error', () => undefined);
    let reporting = false;
    const survive = (what: string) => (e: unknown) => {
      if (reporting) return;
      reporting = true;
      try {
        log.error(`${what}; the validator keeps running`, { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      } catch {
        // nowhere left to report it
      } finally {
        reporting = false;
      }
    };
    process.on('uncaughtException', survive('uncaught error'));
    process.on('unhandledRejection', survive('unhandled rejection'));
    const running = await runValidator(cfg, { log }).catch((e: unknown) => {
      throw startupProblem(e, cfg);
    });
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await running.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
