/**
 * Cheaters against a local validator (issue 24): can a miner earn without a detector? Runs one validator on loopback
 * (the public dataset, images only, per-miner variants, label commitments, copy policy 'share') and, over real
 * WebSockets:
 *   - honest:    the shipped bundle (onnxruntime-node);
 *   - lookup:    a perceptual-hash (dHash, mirrored too) table of every public dataset image; answers the nearest
 *                file's label when it is close, the label prior otherwise;
 *   - collector: remembers the dHash of every challenge it got and the label later revealed for it, and answers new
 *                challenges from that memory (nearest remembered hash), the prior otherwise;
 *   - copier:    5 hotkeys relaying the honest miner's answers (each gets its own variant, so it must relay).
 * Reports each miner's image sn34 (and sn34's formula before the validator's beyond-chance test, with that test's z),
 * its score and its weight, next to the honest miner's. Target: every cheater's
 * sn34 <= 0.05 and weight <= 5 % of the honest miner's. Prints JSON and writes bench/results/lookup-attack.json.
 *
 * --bundle DIR runs the honest miner on another bundle; --generated-real/-synthetic/-semisynthetic N set the
 * validator's generated shares (percent of each label, its --generated-* flags).
 *
 * With --tae-models DIR (the validator's exported autoencoders, see validator/README.md "Generated challenges") the
 * validator also serves fresh round trips of real photos (its default mix: half of each label generated), which
 * no table of public files can contain; --real-pool DIR is the validator's private photo folder (default: the
 * dataset's real images, i.e. photos the lookup table holds). Rounds then pace at --round-interval-ms so generation
 * keeps ahead, as a validator's 3 s default does.
 *
 *   npx tsx bench/lookup-attack.ts [--rounds 150] [--dataset DIR] [--tae-models DIR [--real-pool DIR]]
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { loadNodeDetector, type Probabilities, sn34 } from '@veracity/models/node';
import { defaultBundleDir } from '@veracity/models/paths';
import sharp from 'sharp';
import {
  ChallengeDataset,
  ChallengeFactory,
  DEFAULT_CHALLENGE_CONFIG,
  datasetPool,
  generatedDemand,
  folderPool,
  GeneratedSource,
  loadTaeModels,
  TaeRunner,
} from '@veracity/validator/challenges';
import { createLogger, ValidatorServer, createMetrics, Store } from '@veracity/validator';
import { NodeMiner } from '@veracity/validator/miner';
import { until, AnswerRelay } from '@veracity/validator/test-support';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '150' },
    dataset: { type: 'string', default: process.env.VERACITY_DATASET ?? '../shared/datasets' },
    out: { type: 'string', default: 'bench/results/lookup-attack.json' },
    'tae-models': { type: 'string' },
    'real-pool': { type: 'string' },
    'round-interval-ms': { type: 'string' },
    // Percent of each label's image challenges that are generated (the validator's --generated-* flags).
    'generated-real': { type: 'string' },
    'generated-synthetic': { type: 'string' },
    'generated-semisynthetic': { type: 'string' },
    // The honest miner's bundle (default: the shipped one), to weigh a candidate model against the cheaters.
    bundle: { type: 'string' },
    // The challenge stream's seed: another seed, another draw of items, crops and generated round trips.
    seed: { type: 'string', default: 'lookup-attack' },
  },
});
const log = (s: string) => process.stderr.write(`${s}\n`);
const ROUNDS = Number(args.rounds);

/** dHash: 64 bits, each "is this pixel brighter than its right neighbour" on a 9x8 grey thumbnail; and its mirror. */
async function dhash(input: Buffer | string): Promise<[bigint, bigint]> {
  const { data } = await sharp(input).greyscale().resize(9, 8, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  let h = 0n;
  let m = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      h = (h << 1n) | (data[y * 9 + x]! > data[y * 9 + x + 1]! ? 1n : 0n);
      // The mirror image's bit at x compares the pixels at 8-x and 7-x.
      m = (m << 1n) | (data[y * 9 + 8 - x]! > data[y * 9 + 7 - x]! ? 1n : 0n);
    }
  }
  return [h, m];
}
const popcount = (x: bigint): number => {
  let n = 0;
  for (let v = x; v; v &= v - 1n) n++;
  return n;
};
/** Hamming distance of a challenge's hash to the nearest entry (either orientation), and that entry's label. */
function nearest(table: Array<{ h: bigint; label: string }>, [h, m]: [bigint, bigint]): { d: number; label?: string } {
  let best: { d: number; label?: string } = { d: 65 };
  for (const e of table) {
    const d = Math.min(popcount(e.h ^ h), popcount(e.h ^ m));
    if (d < best.d) best = { d, label: e.label };
  }
  return best;
}
/** Answer `label` with confidence 0.9, or the prior (P(AI) 0.5: scores zero, never negative) with no match. */
function answer(label: string | undefined): Probabilities {
  if (label === 'real') return [0.9, 0.05, 0.05];
  if (label === 'synthetic') return [0.1, 0.85, 0.05];
  if (label === 'semisynthetic') return [0.1, 0.05, 0.85];
  return [0.5, 0.35, 0.15];
}
const MATCH_BITS = 10;

await cryptoWaitReady();
const dataset = ChallengeDataset.load(resolve(args.dataset));
log("hashing the public dataset (the lookup attacker's table) ...");
const publicTable: Array<{ h: bigint; label: string }> = [];
for (const row of dataset.rows.filter((r) => r.modality === 'image')) {
  try {
    publicTable.push({ h: (await dhash(readFileSync(dataset.path(row))))[0], label: row.label });
  } catch {
    // unreadable: the attacker skips it too
  }
}
log(`${publicTable.length} hashes`);

const share = (flag: 'generated-real' | 'generated-synthetic' | 'generated-semisynthetic', fallback: number) =>
  args[flag] === undefined ? fallback : Number(args[flag]);
const challengeConfig = {
  ...DEFAULT_CHALLENGE_CONFIG,
  modalityMix: { image: 1, video: 0 },
  seed: args.seed,
  generatedShare: {
    real: share('generated-real', DEFAULT_CHALLENGE_CONFIG.generatedShare.real),
    synthetic: share('generated-synthetic', DEFAULT_CHALLENGE_CONFIG.generatedShare.synthetic),
    semisynthetic: share('generated-semisynthetic', DEFAULT_CHALLENGE_CONFIG.generatedShare.semisynthetic),
  },
};
let runner: TaeRunner | undefined;
let generated: GeneratedSource | undefined;
if (args['tae-models']) {
  runner = new TaeRunner(loadTaeModels(args['tae-models']));
  const pool = args['real-pool'] ? await folderPool(args['real-pool']) : datasetPool(dataset);
  generated = new GeneratedSource(pool, runner, { seed: args.seed, ahead: 24, demand: generatedDemand(challengeConfig) });
  generated.start();
  log('filling the generated queues ...');
  await generated.whenFull();
}
const roundIntervalMs = Number(args['round-interval-ms'] ?? (generated ? 1500 : 0));

const detector = await loadNodeDetector(args.bundle ?? defaultBundleDir());
const store = new Store(join(mkdtempSync(join(tmpdir(), 'veracity-attack-')), 'v.db'));
const keyring = new Keyring({ type: 'sr25519' });
const key = (uri: string) => keyring.addFromUri(uri);
const copierUris = ['//Copier1', '//Copier2', '//Copier3', '//Copier4', '//Copier5'];
const roles = new Map<string, string>([
  [key('//Honest').address, 'honest'],
  [key('//Lookup').address, 'lookup'],
  [key('//Collector').address, 'collector'],
  ...copierUris.map((u, i) => [key(u).address, `copier-${i + 1}`] as [string, string]),
]);
const factory = new ChallengeFactory(dataset, challengeConfig, generated);
const server = new ValidatorServer({
  host: '127.0.0.1',
  port: 0,
  netuid: 2,
  signer: key('//Alice'),
  store,
  factory,
  metrics: createMetrics(),
  log: createLogger('error'),
  sampleSize: roles.size,
  timeoutMs: 6000,
  roundIntervalMs,
  heartbeatMs: 5000,
  revealEveryRounds: 10,
  copy: { policy: 'share' },
});
const url = await server.listen();
const relay = new AnswerRelay();
const stats = { lookupMatches: 0, lookupTries: 0, collectorMatches: 0, collectorTries: 0 };
const collected = new Map<string, bigint>(); // challenge id -> dHash, until its label is revealed
const memory: Array<{ h: bigint; label: string }> = [];
const miners = [
  new NodeMiner({
    url,
    signer: key('//Honest'),
    netuid: 2,
    behaviour: 'model',
    detector,
    onEvent: (e) => e.type === 'answered' && relay.onSourceAnswer(e.probabilities),
  }),
  new NodeMiner({
    url,
    signer: key('//Lookup'),
    netuid: 2,
    behaviour: 'custom',
    answerWith: async (c) => {
      const hit = nearest(publicTable, await dhash(Buffer.from(c.media[0]!)));
      stats.lookupTries++;
      if (hit.d <= MATCH_BITS) stats.lookupMatches++;
      return answer(hit.d <= MATCH_BITS ? hit.label : undefined);
    },
  }),
  new NodeMiner({
    url,
    signer: key('//Collector'),
    netuid: 2,
    behaviour: 'custom',
    answerWith: async (c, self) => {
      // Learn whatever was revealed since the last challenge.
      for (const [id, h] of collected) {
        const label = self.revealed.get(id);
        if (label !== undefined) {
          memory.push({ h, label });
          collected.delete(id);
        }
      }
      const hash = await dhash(Buffer.from(c.media[0]!));
      collected.set(c.id, hash[0]);
      const hit = nearest(memory, hash);
      stats.collectorTries++;
      if (hit.d <= MATCH_BITS) stats.collectorMatches++;
      return answer(hit.d <= MATCH_BITS ? hit.label : undefined);
    },
  }),
  ...copierUris.map(
    (u) =>
      new NodeMiner({
        url,
        signer: key(u),
        netuid: 2,
        behaviour: 'custom',
        answerWith: (c) => relay.next(Date.now(), c.deadline),
      }),
  ),
];
await Promise.all(miners.map((m) => m.start()));
log(`${miners.length} miners; running ${ROUNDS} rounds ...`);
const t0 = performance.now();
await until(() => server.roundsRun >= ROUNDS, ROUNDS * 10_000, `${ROUNDS} rounds`);
const seconds = (performance.now() - t0) / 1000;

const scores = server.scores();
const copying = server.copying();
const honest = scores.get(key('//Honest').address)!;
const perMiner = [...roles].map(([hotkey, role]) => {
  const s = scores.get(hotkey)!;
  const image = s.detail.modalities.image;
  return {
    role,
    hotkey,
    answers: image.n,
    sn34: Math.round(image.sn34 * 10_000) / 10_000,
    // sn34's formula alone, before the beyond-chance test (validator/src/scoring.ts) and that test's z.
    sn34_formula: Math.round(sn34(image.mcc, image.brier) * 10_000) / 10_000,
    z: Math.round(image.z * 100) / 100,
    beyond_chance: image.beyondChance,
    mcc: Math.round(image.mcc * 10_000) / 10_000,
    brier: Math.round(image.brier * 10_000) / 10_000,
    // What the validator credits: a copy-group member the policy zeroes relays the honest answers (so its own
    // sn34 is the honest one) but is credited none of it.
    sn34_credited: s.score > 0 || s.detail.score === 0 ? Math.round(image.sn34 * 10_000) / 10_000 : 0,
    score_before_copy_policy: Math.round(s.detail.score * 10_000) / 10_000,
    score: Math.round(s.score * 10_000) / 10_000,
    weight: Math.round(s.weight * 10_000) / 10_000,
    weight_vs_honest: honest.weight > 0 ? Math.round((s.weight / honest.weight) * 1000) / 1000 : null,
    copy_group: copying.groups.find((g) => g.includes(hotkey))?.length ?? null,
  };
});
const cheaters = perMiner.filter((m) => m.role !== 'honest');
/** A cheater passes at credited sn34 <= 0.05 and at most 5 % of the honest weight (any weight, if honest has none). */
const passes = (m: (typeof perMiner)[number]) =>
  m.sn34_credited <= 0.05 && (honest.weight > 0 ? (m.weight_vs_honest ?? 0) <= 0.05 : m.weight === 0);
const report = {
  benchmark: 'lookup-attack',
  command: `npx tsx bench/lookup-attack.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  rounds: server.roundsRun,
  seconds: Math.round(seconds),
  setup: `one validator on loopback, public dataset, images only, every miner in every round (own variant each), labels revealed every 10 rounds, copy policy share${generated ? `, generated round trips (${args['real-pool'] ? 'private pool' : 'pool: the public real images'}), rounds every ${roundIntervalMs} ms` : ''}`,
  generation: generated
    ? { ...generated.status(), generated_share: challengeConfig.generatedShare, served_by_origin: factory.origins }
    : null,
  honest_bundle: { id: detector.manifest.id, version: detector.manifest.version },
  per_miner: perMiner,
  lookup: { matched: stats.lookupMatches, tried: stats.lookupTries, match_bits: MATCH_BITS, table: publicTable.length },
  collector: { matched: stats.collectorMatches, tried: stats.collectorTries, learned: memory.length },
  copy_groups: copying.groups.map((g) => g.map((h) => roles.get(h) ?? h)),
  target: {
    rule: "every cheater's sn34 <= 0.05 and weight <= 5 % of the honest miner's",
    measured_on: 'sn34_credited (sn34 the validator credits after its copy policy) and weight_vs_honest',
    // Judged only when the honest miner earns: with no honest weight there is nothing to compare against (a
    // detector at chance on the challenges leaves every miner at 0, which says nothing about the cheaters).
    judged: honest.weight > 0,
    met: honest.weight > 0 && cheaters.every(passes),
    failing: cheaters.filter((m) => !passes(m)).map((m) => m.role),
  },
};
for (const m of miners) m.stop();
await server.close();
await generated?.close();
await runner?.close();
store.close();
await detector.dispose();
mkdirSync('bench/results', { recursive: true });
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
