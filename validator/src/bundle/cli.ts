/**
 * veracity-bundle: a miner's tool for the model channel. `check` runs the bundle checks, `serve` hosts a bundle
 * folder read-only over HTTP, `publish` checks a bundle and writes its commitment on chain under the miner's hotkey.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { intFlag, parseCli, runCli, UsageError } from '@veracity/models/cli';
import { loadHotkey } from '../chain/keys.js';
import { ChainTxError, TransportError } from '../chain/tx.js';
import { BundleCheckError, checkBundle } from './check.js';
import { prepareBundle, PublishError, publishPrepared } from './publish.js';
import { serveBundles } from './serve.js';

const PROGRAM = 'veracity-bundle';

export const HELP = `usage: veracity-bundle <check|serve|publish> --bundle DIR [options]

A miner's model bundle (manifest.json + the model it names) on the model channel: validators check that what a miner
answers with is what it published, and extension users download the best published bundle.

  check   --bundle DIR             the checks publish runs: manifest against models/manifest.schema.json, each
                                   file's sha256 against the manifest, total size <= 10 MiB, a test inference
  serve   --bundle DIR             serve the bundle read-only over HTTP: manifest.json and the files it names only,
          [--port N] [--host H]    CORS *, for as long as it runs  [default port 8792, host 127.0.0.1]
  publish --bundle DIR --url URL   check the bundle, check that URL serves it, write {sha256, version, url} on chain
          [--chain URL]            subtensor websocket [VERACITY_CHAIN]
          [--netuid N]             the subnet [VERACITY_NETUID, default 2]
          [--keystore FILE]        polkadot-js JSON keystore of the hotkey (password in VERACITY_KEYSTORE_PASSWORD)
          [--no-check-url]         publish without fetching URL first (when it goes up after publishing)
  -h, --help                       this text

The hotkey is the miner's: VERACITY_MINER_URI (a secret URI or mnemonic, as for veracity-miner-node), or --keystore;
never a flag value, which would land in shell history and ps. validator/README.md "Publish your own bundle" has the
whole walk-through.`;

/** A check, publish or chain failure as the one line and exit 2 every CLI of the project uses. */
export function asUsage(e: unknown, chain?: string): unknown {
  if (e instanceof BundleCheckError || e instanceof PublishError) return new UsageError(`${e.code}: ${e.problem}`, e.fix);
  if (e instanceof ChainTxError) {
    const fix = /RateLimit|TooFast/i.test(e.code)
      ? 'the commitments pallet allows one change per rate-limit period: wait some blocks and publish again'
      : /Balance|Fund|Deposit/i.test(e.code)
        ? "fund the hotkey's account: a commitment takes a deposit"
        : 'see the chain error above; check --netuid and the hotkey';
    return new UsageError(`the chain refused the commitment: ${e.message}`, fix);
  }
  if (e instanceof TransportError)
    return new UsageError(
      `lost the chain at ${chain}: ${e.message}`,
      'check that --chain is a running subtensor node, then publish again',
    );
  return e;
}

async function connect(endpoint: string): Promise<ApiPromise> {
  const provider = new WsProvider(endpoint, false);
  const api = new ApiPromise({ provider, noInitWarn: true });
  api.on('error', () => undefined);
  api.isReadyOrError.catch(() => undefined);
  try {
    await Promise.race([
      provider.connect().then(() => api.isReadyOrError),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 15 s')), 15_000).unref()),
    ]);
    return api;
  } catch (e) {
    await api.disconnect().catch(() => undefined);
    throw new UsageError(
      `cannot reach the chain at ${endpoint}: ${e instanceof Error ? e.message : String(e)}`,
      'pass --chain (VERACITY_CHAIN) the websocket of a running subtensor node',
    );
  }
}

export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<void> {
  await runCli(PROGRAM, async () => {
    const [command, ...rest] = argv;
    if (command === '-h' || command === '--help' || command === 'help') return void console.log(HELP);
    if (command !== 'check' && command !== 'serve' && command !== 'publish')
      throw new UsageError(
        command ? `unknown command "${command}"` : 'no command given',
        `run ${PROGRAM} check|serve|publish --bundle DIR (${PROGRAM} --help says more)`,
      );
    const values = parseCli(PROGRAM, rest, {
      bundle: { type: 'string' },
      url: { type: 'string' },
      chain: { type: 'string' },
      netuid: { type: 'string' },
      keystore: { type: 'string' },
      'no-check-url': { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) return void console.log(HELP);
    if (!values.bundle)
      throw new UsageError('--bundle is required', 'pass --bundle DIR, a folder with manifest.json (e.g. models/bundle)');
    const bundle = values.bundle;
    const only = (allowed: string[]) => {
      const extra = Object.keys(values).filter((k) => !['bundle', 'help', ...allowed].includes(k));
      if (extra.length) throw new UsageError(`--${extra[0]} is not an option of ${command}`, `run ${PROGRAM} --help`);
    };

    if (command === 'check') {
      only([]);
      const c = await checkBundle(bundle).catch((e: unknown) => {
        throw asUsage(e);
      });
      console.log(
        `${c.dir}: ${c.manifest.id} ${c.manifest.version}, ${c.files.length} files, ${c.bytes} bytes, sha256 ${c.sha256}; test inference ${c.probabilities.map((p) => p.toFixed(3)).join(' ')} (real synthetic semisynthetic)`,
      );
      return;
    }

    if (command === 'serve') {
      only(['port', 'host']);
      const port = intFlag('port', values.port, 0, 65535) ?? 8792;
      const host = values.host ?? '127.0.0.1';
      const served = await serveBundles({ '/': bundle }, { host, port }).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE')
          throw new UsageError(`port ${port} on ${host} is already in use`, 'pass another --port N');
        throw asUsage(e);
      });
      const b = served.bundles[0]!;
      console.log(`serving ${b.manifest.id} ${b.manifest.version} (sha256 ${b.sha256}) at ${b.url}: ${b.files.join(', ')}`);
      console.log(`publish it with: ${PROGRAM} publish --bundle ${bundle} --url ${b.url} --chain ws://…`);
      const stop = () => void served.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      return;
    }

    only(['url', 'chain', 'netuid', 'keystore', 'no-check-url']);
    if (!values.url)
      throw new UsageError(
        '--url is required',
        'pass --url, the http(s) URL of the bundle folder where downloaders fetch manifest.json',
      );
    const chain = values.chain ?? (env.VERACITY_CHAIN || undefined);
    if (!chain) throw new UsageError('no chain endpoint', 'pass --chain ws://HOST:PORT (or set VERACITY_CHAIN)');
    if (!/^wss?:\/\/[^/\s]+/.test(chain))
      throw new UsageError(`--chain ${chain} is not a ws:// or wss:// URL`, 'pass e.g. --chain ws://127.0.0.1:9944');
    const netuid = intFlag('netuid', values.netuid ?? (env.VERACITY_NETUID || '2'), 0, 65535)!;
    const keystore = values.keystore ?? (env.VERACITY_KEYSTORE || undefined);
    if (!env.VERACITY_MINER_URI && !keystore)
      throw new UsageError(
        'no miner hotkey: VERACITY_MINER_URI is not set and no --keystore given',
        "set VERACITY_MINER_URI to the hotkey's secret URI or mnemonic, or pass --keystore FILE",
      );
    const signer = await loadHotkey({
      ...(env.VERACITY_MINER_URI ? { uri: env.VERACITY_MINER_URI } : {}),
      ...(keystore ? { keystore, keystorePassword: env.VERACITY_KEYSTORE_PASSWORD ?? '' } : {}),
    }).catch((e: unknown) => {
      throw new UsageError(
        `the miner hotkey is not usable: ${e instanceof Error ? e.message : String(e)}`,
        'check VERACITY_MINER_URI, or --keystore and VERACITY_KEYSTORE_PASSWORD',
      );
    });
    // Progress for a person at a terminal; piped output stays the result alone (or one error line on stderr).
    const step = process.stdout.isTTY ? (t: string) => console.log(`… ${t}`) : () => undefined;
    // Everything local first: a broken bundle or a wrong URL is found without touching the chain.
    const prepared = await prepareBundle({ dir: bundle, url: values.url, checkUrl: !values['no-check-url'], onStep: step }).catch(
      (e: unknown) => {
        throw asUsage(e);
      },
    );
    const api = await connect(chain);
    try {
      const r = await publishPrepared(api, signer, netuid, prepared, step);
      console.log(
        `${r.unchanged ? 'already published (nothing written), at' : 'published at'} block ${r.block} on netuid ${netuid} by ${signer.address}:\n` +
          `  sha256   ${r.readBack.sha256}\n  version  ${r.readBack.version}\n  url      ${r.readBack.url}\n` +
          `  (read back from commitments.commitmentOf; ${r.bundle.bytes} bytes, test inference ${r.probabilities?.map((p) => p.toFixed(3)).join(' ')})`,
      );
    } catch (e) {
      throw asUsage(e, chain);
    } finally {
      await api.disconnect().catch(() => undefined);
    }
  });
}
