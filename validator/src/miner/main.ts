/** veracity-miner-node CLI: mine headless with the model runtime. */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { intFlag, parseCli, runCli, UsageError } from '@veracity/models/cli';
import { ErrorCode, loadNodeDetector } from '@veracity/models/node';
import { bundleFlag } from '@veracity/models/paths';
import { judgeValidator, MAX_BUNDLE_BYTES, readValidatorStanding, type StandingQueries } from '@veracity/protocol';
import { keyFromUri } from '../chain/keys.js';
import { type MinerBehaviour, NodeMiner, type NodeMinerOptions } from './node-miner.js';

const PROGRAM = 'veracity-miner-node';
/** The loader's refusals of a bundle (@veracity/models ErrorCode), reported as a bad --bundle. */
const BUNDLE_PROBLEMS: ReadonlySet<string> = new Set([
  ErrorCode.BundleFetch,
  ErrorCode.BundleTooLarge,
  ErrorCode.ManifestInvalid,
  ErrorCode.Sha256Mismatch,
]);
const BUNDLE_FIX =
  'pass --bundle (or VERACITY_MINER_BUNDLE) a folder or http(s) URL holding manifest.json and the files it names, at most 10 MiB';
const BEHAVIOURS: MinerBehaviour[] = ['model', 'random', 'silent', 'decline'];

const HELP = `usage: veracity-miner-node --validator ws://HOST:PORT/ [--validator ...] [options]

Mines headless: answers a validator's challenges with the model bundle, through onnxruntime-node.

  --validator URL     validator to mine for (ws:// or wss://); repeat it to mine for several at once
  --netuid N          the subnet the validators serve; a validator on another one refuses the handshake [default 2]
  --bundle DIR|URL    model bundle (manifest.json + the model it names), a folder or an http(s) URL; at most
                      10 MiB, each file checked against the manifest's sha256. Declared in every handshake as
                      the sha256 of its manifest.json, the id \`veracity-bundle publish\` puts on the chain
                      [default: $VERACITY_MINER_BUNDLE, else the shipped models/bundle]
  --accept HOTKEY     only answer a validator that proves this hotkey in the handshake [default: any]
  --threads N         onnxruntime threads [default: automatic]
  --chain URL         subtensor node (ws:// or wss://): mine only for validators registered on the netuid with a
                      validator permit and at least --min-stake alpha, read before every connection; refused ones
                      are named with the reason and retried later [default: no check, any validator]
  --min-stake ALPHA   least alpha a validator must have staked on the netuid, with --chain [default 0]
  --behaviour B       model (answer with the model), or for tests: random, silent (never answer), decline
                      (refuse every challenge) [default model]
  -h, --help          this text

The miner hotkey comes from VERACITY_MINER_URI (a secret URI or mnemonic; //Bob-style dev URIs on a local net),
never from a flag, which would land in shell history and ps.`;

export async function main(argv: string[]): Promise<void> {
  await runCli(PROGRAM, async () => {
    const values = parseCli(PROGRAM, argv, {
      validator: { type: 'string', multiple: true },
      netuid: { type: 'string', default: '2' },
      bundle: { type: 'string' },
      accept: { type: 'string' },
      threads: { type: 'string' },
      chain: { type: 'string' },
      'min-stake': { type: 'string', default: '0' },
      behaviour: { type: 'string', default: 'model' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) return void console.log(HELP);
    if (!values.validator?.length)
      throw new UsageError('no validator given', 'pass --validator ws://HOST:PORT/ (npm start prints its validator URL)');
    for (const url of values.validator)
      if (!/^wss?:\/\/[^/\s]+/.test(url))
        throw new UsageError(`--validator ${url} is not a ws:// or wss:// URL`, 'pass e.g. --validator ws://127.0.0.1:8790/');
    const netuid = intFlag('netuid', values.netuid, 0, 65535)!;
    const threads = intFlag('threads', values.threads, 1, 256);
    const behaviour = values.behaviour as MinerBehaviour;
    if (!BEHAVIOURS.includes(behaviour))
      throw new UsageError(
        `--behaviour ${values.behaviour} is not one of ${BEHAVIOURS.join(', ')}`,
        'leave it out to mine with the model',
      );
    const uri = process.env.VERACITY_MINER_URI;
    if (!uri)
      throw new UsageError(
        'no miner hotkey: VERACITY_MINER_URI is not set',
        "set VERACITY_MINER_URI to the hotkey's secret URI or mnemonic (e.g. VERACITY_MINER_URI='//Bob' on a local net)",
      );
    const signer = await keyFromUri(uri, 'miner hotkey').catch((e: unknown) => {
      throw new UsageError(
        `VERACITY_MINER_URI is not a usable key: ${e instanceof Error ? e.message : String(e)}`,
        'set it to a secret URI (//Name) or a 12/24-word mnemonic',
      );
    });
    const minStake = Number(values['min-stake']);
    if (!Number.isFinite(minStake) || minStake < 0)
      throw new UsageError(`--min-stake ${values['min-stake']} is not a number of alpha >= 0`, 'pass e.g. --min-stake 1000');
    if (values.chain && !/^wss?:\/\/[^/\s]+/.test(values.chain))
      throw new UsageError(`--chain ${values.chain} is not a ws:// or wss:// URL`, 'pass e.g. --chain ws://127.0.0.1:9944');
    let checkValidator: NodeMinerOptions['checkValidator'];
    if (values.chain) {
      const api = await ApiPromise.create({ provider: new WsProvider(values.chain), noInitWarn: true });
      const q = api.query.subtensorModule as unknown as StandingQueries;
      checkValidator = async (hotkey) => judgeValidator(await readValidatorStanding(q, netuid, hotkey), { minStake });
    }
    const bundle = bundleFlag(values.bundle ?? (process.env.VERACITY_MINER_BUNDLE || undefined));
    const detector = await loadNodeDetector(bundle, {
      ...(threads ? { threads } : {}),
      // What a miner serves is what it could publish: the same cap as `veracity-bundle publish` and every downloader.
      maxBytes: MAX_BUNDLE_BYTES,
      onProgress: (p) => process.stderr.write(`model: ${p.stage}${p.backend ? ` (${p.backend})` : ''}\n`),
    }).catch((e: unknown) => {
      // A bundle that cannot be had or is not what its manifest says is the user's input to fix: one line, its code.
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && BUNDLE_PROBLEMS.has(code))
        throw new UsageError(`--bundle ${bundle}: ${e instanceof Error ? e.message : String(e)}`, BUNDLE_FIX);
      throw e;
    });
    const miners = values.validator.map(
      (url) =>
        new NodeMiner({
          url,
          signer,
          netuid,
          behaviour,
          detector,
          ...(values.accept ? { validator: values.accept } : {}),
          ...(checkValidator ? { checkValidator } : {}),
          onEvent: (e) => {
            process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), validator: url, ...e })}\n`);
            if (e.type === 'refused') process.stderr.write(`${e.message} Retrying later.\n`);
            if (e.type === 'reveal' && e.mismatched.length > 0)
              process.stderr.write(
                `WARNING: validator ${url} revealed ${e.mismatched.length} label(s) in ${e.window} that do not match what it committed to when it sent the challenge (${e.mismatched.slice(0, 3).join(', ')}${e.mismatched.length > 3 ? ', ...' : ''}): it may be scoring dishonestly\n`,
              );
          },
        }),
    );
    await Promise.all(miners.map((m) => m.start()));
    const declared = miners[0]!.bundleSha256;
    process.stderr.write(
      `mining as ${signer.address} on ${values.validator.join(', ')} with bundle ${declared?.slice(0, 12) ?? '(none)'} (${detector.manifest.id} ${detector.manifest.version}, ${bundle})\n`,
    );
    // Said once everything is up, so a usage error stays the one line it is.
    if (!checkValidator)
      process.stderr.write('not checking validators on chain (no --chain): mining for any validator whose hello verifies\n');
    const stop = () => {
      for (const m of miners) m.stop();
      setTimeout(() => process.exit(0), 200);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
