/**
 * `npm start`: a whole local subnet for a newcomer, in one process — the subtensor chain under chopsticks with a
 * bootstrapped subnet, the validator (status page, /metrics), two headless Node miners that publish their bundles
 * (the shipped detector, the tiny fixture) and answer with them, the web miner served locally and the extension built
 * for "Load unpacked". Ctrl-C stops all of it; builds run as child processes in
 * their own process groups and are killed with it, so nothing is left behind.
 *
 * Composition root only: every part lives in its package and is tested there; options and output are in
 * scripts/start/ (unit-tested).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { type Detector, loadNodeDetector } from '@veracity/models/node';
import { bootstrapSubnet, keyFromUri, type Localnet, startLocalnet } from '@veracity/validator/chain';
import {
  resolveConfig,
  createLogger,
  type Logger,
  runValidator,
  type RunningValidator,
  serveStatic,
  type Served,
} from '@veracity/validator';
import { publishBundle, serveBundles, type ServedBundles } from '@veracity/validator/bundle';
import { NodeMiner } from '@veracity/validator/miner';
import { buildIfStale, killChildren } from './start/build.js';
import { acquireStartLock, formatLockHeld, runningStatusUrl } from './start/lock.js';
import { parseStartOptions, START_HELP, StartOptionsError, type StartOptions } from './start/options.js';
import {
  chainUpNote,
  formatHeartbeat,
  formatMissing,
  formatMs,
  formatSummary,
  preflight,
  type RunSummary,
  Steps,
} from './start/steps.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string) => process.stdout.write(`${line}\n`);

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Everything started so far, closed in reverse order on Ctrl-C or on a failed start. */
const closers: { name: string; close: () => Promise<unknown> }[] = [];
let stopping = false;
/** Set once the summary is printed: heartbeats start then. */
let up = false;
const errors: { count: number; last: string | null } = { count: 0, last: null };

async function stopAll(code: number, why: string): Promise<never> {
  if (!stopping) {
    stopping = true;
    say(`\n${why}; stopping …`);
    // Parts close in reverse order of starting; `left[0]` is the one being closed now.
    const left = [...closers].reverse();
    // A part that hangs on close must not keep the terminal: give up after 20 s and say which one.
    const guard = setTimeout(() => {
      const [now, ...rest] = left;
      say(
        `still stopping after 20 s (waiting on ${now?.name ?? '?'}${rest.length ? `; not yet closed: ${rest.map((c) => c.name).join(', ')}` : ''}); exiting anyway`,
      );
      process.exit(code || 1);
    }, 20_000);
    guard.unref();
    killChildren();
    while (left.length) {
      const c = left[0]!;
      const t = Date.now();
      await c.close().catch((e: unknown) => say(`  ${c.name}: ${e instanceof Error ? e.message : String(e)}`));
      // A slow part is named even when it makes it in time, so a creeping shutdown shows before it fails.
      if (Date.now() - t > 3000) say(`  ${c.name}: closed in ${formatMs(Date.now() - t)}`);
      left.shift();
    }
    say('stopped.');
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}

function portHint(e: unknown, port: number, flag: string, env: string): unknown {
  if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(e)))
    return new Error(`port ${port} is already in use (another npm start?): stop that, or pass --${flag} N / ${env}=N`);
  return e;
}

async function main(opts: StartOptions): Promise<void> {
  const t0 = Date.now();
  const missing = preflight({ ...opts, root: ROOT }, { exists: existsSync, onPath });
  if (missing.length) {
    process.stderr.write(`${formatMissing(missing)}\n`);
    process.exit(2);
  }
  mkdirSync(opts.stateDir, { recursive: true });
  // Before anything that touches the state folder (--fresh deletes it) or a port: one start per state folder.
  const lock = acquireStartLock(opts.stateDir);
  if (!lock.ok) {
    process.stderr.write(
      `${formatLockHeld(lock.holder, relative(process.cwd(), opts.stateDir) || opts.stateDir, runningStatusUrl(opts.stateDir, lock.holder.pid))}\n`,
    );
    process.exit(2);
  }
  process.on('exit', lock.release);
  if (lock.tookOverFrom) say(`(an earlier npm start, pid ${lock.tookOverFrom.pid}, ended without cleaning up; taking over)`);
  const chainDb = join(opts.stateDir, 'chain.db');
  const validatorDb = join(opts.stateDir, 'validator.db');
  // The validator's miners and scores belong to one chain: forgetting the chain forgets them too.
  if (opts.fresh || !existsSync(chainDb)) {
    for (const f of [chainDb, validatorDb]) for (const s of ['', '-wal', '-shm', '-journal']) rmSync(`${f}${s}`, { force: true });
  }
  const resume = existsSync(chainDb);

  const steps = new Steps(5, say);
  say(`Veracity: starting a local subnet (dataset ${opts.dataset})`);

  // The builds are CPU work and the chain mostly waits on block time: start them now, collect them at steps 4-5.
  const builds = opts.build
    ? {
        webMiner: buildIfStale(
          ROOT,
          'web-miner',
          ['models/src', 'models/bundle', 'models/build', 'protocol/src', 'miner/src'],
          (t) => say(`      web miner: ${t}`),
        ),
        extension: buildIfStale(ROOT, 'extension', ['models/src', 'models/bundle', 'models/build'], (t) =>
          say(`      extension: ${t}`),
        ),
      }
    : null;
  // Surfaced by the step that awaits them; without this an early failure would be an unhandled rejection.
  void builds?.webMiner.catch(() => undefined);
  void builds?.extension.catch(() => undefined);

  const minerUris = Array.from({ length: opts.miners }, (_, i) => `//Miner${i + 1}`);
  const chain = await steps.run(
    'local chain + subnet',
    async (note) => {
      note(
        `chopsticks on ${relative(process.cwd(), opts.chainSpec) || opts.chainSpec}${resume ? ' (resuming saved state)' : ''}`,
      );
      const net: Localnet = await startLocalnet({
        spec: opts.chainSpec,
        ...(opts.chainSpecSha256 ? { specSha256: opts.chainSpecSha256 } : {}),
        port: opts.chainPort,
        db: chainDb,
        resume,
      });
      closers.push({ name: 'chain', close: () => net.close() });
      note(chainUpNote(net.endpoint, net.startBlock, resume));
      const api = await ApiPromise.create({ provider: new WsProvider(net.endpoint), noInitWarn: true });
      closers.push({ name: 'chain client', close: () => api.disconnect() });
      const boot = await bootstrapSubnet(api, {
        validatorHotkey: '//Alice',
        minerHotkeys: minerUris,
        tempo: opts.tempo,
        onProgress: (p) => {
          if (p.status !== 'start') note(`${p.step}: ${p.status}${p.detail ? ` (${p.detail})` : ''}`);
        },
      });
      return { net, boot, api };
    },
    ({ net, boot }) => `netuid ${boot.netuid} ready at ${net.endpoint}`,
  );

  const validator: RunningValidator = await steps.run(
    'validator',
    async (note) => {
      note(`challenges from ${opts.dataset}; state in ${validatorDb}`);
      // The validator's own VERACITY_* settings still apply; what ties it to this subnet is fixed here.
      const base = resolveConfig([], process.env, (p) => readFileSync(p, 'utf8'));
      if (base === 'help') throw new Error('unexpected help');
      // Errors the validator logs are counted for the heartbeat line (and still printed, at any log level).
      const level = process.env.VERACITY_LOG_LEVEL ? base.logLevel : 'warn';
      const logger = createLogger(level);
      const log: Logger = {
        ...logger,
        error: (msg, fields) => {
          errors.count++;
          errors.last = msg;
          logger.error(msg, fields);
        },
      };
      const v = await runValidator(
        {
          ...base,
          dataset: opts.dataset,
          db: validatorDb,
          host: opts.host,
          port: opts.validatorPort,
          chainEndpoint: chain.net.endpoint,
          netuid: chain.boot.netuid,
          hotkeyUri: '//Alice',
          keystore: '',
          weightsIntervalMs: opts.weightsIntervalMs,
          logLevel: level,
        },
        {
          log,
          // After "up", one line per weights cycle: the terminal is not silent while the subnet works.
          onWeightsCycle: (c) => {
            if (!up) return;
            say(
              formatHeartbeat({
                at: c.at,
                rounds: c.rounds,
                online: c.online,
                ok: c.outcome.ok,
                detail: c.outcome.detail,
                ...('action' in c.outcome ? { action: c.outcome.action } : {}),
                weights: c.weights,
                errors: errors.count,
                lastError: errors.last,
              }),
            );
            errors.count = 0;
            errors.last = null;
          },
        },
      ).catch((e: unknown) => {
        throw portHint(e, opts.validatorPort, 'validator-port', 'VERACITY_PORT');
      });
      closers.push({ name: 'validator', close: () => v.close() });
      return v;
    },
    (v) => `listening on ${v.url}`,
  );
  const statusUrl = validator.url.replace(/^ws/, 'http');

  // The model channel: both bundles served over HTTP and published on chain, one per Node miner, each answering with
  // the bundle it downloaded from its own URL and declaring it in auth (validator/README.md "Publish your own bundle").
  const nodeMiners = opts.nodeMiner
    ? await steps.run(
        'node miners + published bundles',
        async (note) => {
          const which = [
            { name: 'detector', dir: opts.bundle },
            { name: 'tiny', dir: join(ROOT, 'models/fixtures/tiny') },
          ].slice(0, minerUris.length);
          const served: ServedBundles = await serveBundles(Object.fromEntries(which.map((b) => [`/${b.name}/`, b.dir])), {
            host: opts.host,
            port: opts.bundlePort,
          }).catch((e: unknown) => {
            throw portHint(e, opts.bundlePort, 'bundle-port', 'VERACITY_BUNDLE_PORT');
          });
          closers.push({ name: 'bundle server', close: () => served.close() });
          note(`serving ${served.bundles.map((b) => b.url).join(' and ')}`);
          const out: RunSummary['nodeMiners'] = [];
          for (const [i, b] of served.bundles.entries()) {
            const uri = minerUris[i]!;
            const signer = await keyFromUri(uri, 'miner hotkey');
            // Same path as `npx veracity-bundle publish`; a resumed chain that holds this record already is left as is.
            const r = await publishBundle({ api: chain.api, signer, netuid: chain.boot.netuid, dir: b.dir, url: b.url });
            note(
              `${uri} ${r.unchanged ? 'had already published' : 'published'} ${b.manifest.id} ${b.manifest.version} (sha256 ${b.sha256.slice(0, 8)}…) at block ${r.block}`,
            );
            const detector: Detector = await loadNodeDetector(b.url);
            closers.push({ name: `model ${b.manifest.id}`, close: () => detector.dispose() });
            const miner = new NodeMiner({
              url: validator.url,
              signer,
              netuid: chain.boot.netuid,
              behaviour: 'model',
              detector,
              bundleSha256: b.sha256,
            });
            closers.push({ name: `node miner ${uri}`, close: async () => miner.stop() });
            await miner.start();
            out.push({
              uri,
              uid: chain.boot.minerUids[i]!.uid,
              bundle: { id: b.manifest.id, version: b.manifest.version, sha256: b.sha256, url: b.url },
            });
          }
          return out;
        },
        (ms) => ms.map((m) => `${m.uri} (uid ${m.uid}) connected`).join(', '),
      )
    : [];

  const devIndex = nodeMiners.length;
  const webMiner = await steps.run(
    'web miner',
    async (note) => {
      if (!builds) {
        if (!existsSync(join(ROOT, 'web-miner/dist/index.html'))) {
          note('not built (--no-build and no web-miner/dist): skipped');
          return null;
        }
      } else await builds.webMiner;
      const dist = join(ROOT, 'web-miner/dist');
      const devUri = minerUris[devIndex] ?? null;
      // Read by the page at start-up (see web-miner's README section): which validator and chain to use.
      writeFileSync(
        join(dist, 'config.json'),
        `${JSON.stringify({ validators: [validator.url], chain: chain.net.endpoint, netuid: chain.boot.netuid, devAccount: devUri }, null, 2)}\n`,
      );
      const served: Served = await serveStatic({ '/': dist }, { host: opts.host, port: opts.minerPort, isolate: true }).catch(
        (e: unknown) => {
          throw portHint(e, opts.minerPort, 'miner-port', 'VERACITY_MINER_PORT');
        },
      );
      closers.push({ name: 'web miner server', close: () => served.close() });
      return { url: served.url, devUri, devUid: devUri ? chain.boot.minerUids[devIndex]!.uid : null };
    },
    (w) => (w ? `serving ${w.url}` : 'skipped'),
  );

  const extension = await steps.run(
    'extension',
    async (note) => {
      if (!builds) {
        if (!existsSync(join(ROOT, 'extension/dist/manifest.json'))) {
          note('not built (--no-build and no extension/dist): skipped');
          return null;
        }
        return { dir: join(ROOT, 'extension/dist') };
      }
      const b = await builds.extension;
      return { dir: b.dir };
    },
    (x) => (x ? `built in ${x.dir}` : 'skipped'),
  );

  const summary: RunSummary = {
    chain: {
      endpoint: chain.net.endpoint,
      netuid: chain.boot.netuid,
      validatorUid: chain.boot.validatorUid,
      validatorHotkey: chain.boot.validatorHotkey,
      resumed: resume,
    },
    validator: { ws: validator.url, status: statusUrl, metrics: `${statusUrl}metrics` },
    nodeMiners,
    webMiner,
    extension,
    stateDir: opts.stateDir,
    tookMs: Date.now() - t0,
  };
  // For tools and tests: the same facts as the text below, machine-readable.
  writeFileSync(join(opts.stateDir, 'run.json'), `${JSON.stringify({ ...summary, pid: process.pid }, null, 2)}\n`);
  say('');
  say(formatSummary(summary));
  say('');
  say(`Heartbeat, one line per weights cycle (every ${formatMs(opts.weightsIntervalMs)}):`);
  up = true;
}

let opts: StartOptions | 'help';
try {
  opts = parseStartOptions(process.argv.slice(2), process.env, ROOT, process.env.INIT_CWD ?? process.cwd());
} catch (e) {
  process.stderr.write(`${e instanceof StartOptionsError ? e.message : String(e)}\n`);
  process.exit(2);
}
if (opts === 'help') {
  say(START_HELP);
  process.exit(0);
}
process.on('SIGINT', () => void stopAll(0, 'Ctrl-C'));
process.on('SIGTERM', () => void stopAll(0, 'SIGTERM'));
const started = Date.now();
main(opts).catch((e: unknown) => {
  process.stderr.write(`\nnpm start: ${e instanceof Error ? e.message : String(e)} (after ${formatMs(Date.now() - started)})\n`);
  void stopAll(1, 'start-up failed');
});
