/** veracity-miner-node CLI: mine headless with the model runtime. */
import { parseArgs } from 'node:util';
import { loadNodeDetector } from '@veracity/models/node';
import { defaultBundleDir } from '@veracity/models/paths';
import { keyFromUri } from '../chain/keys.js';
import { type MinerBehaviour, NodeMiner } from './node-miner.js';

const HELP = `usage: veracity-miner-node --validator ws://HOST:PORT/ [--netuid N] [--bundle DIR|URL] [--accept HOTKEY] [--threads N]
  the miner hotkey comes from VERACITY_MINER_URI (secret URI or mnemonic; //Bob-style dev URIs on a local net)`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      validator: { type: 'string', multiple: true },
      netuid: { type: 'string', default: '2' },
      bundle: { type: 'string' },
      accept: { type: 'string' },
      threads: { type: 'string' },
      behaviour: { type: 'string', default: 'model' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.validator?.length) {
    console.log(HELP);
    process.exit(values.help ? 0 : 2);
  }
  const uri = process.env.VERACITY_MINER_URI;
  if (!uri) {
    console.error('set VERACITY_MINER_URI to the miner hotkey (secret URI or mnemonic)');
    process.exit(2);
  }
  const signer = await keyFromUri(uri, 'miner hotkey');
  const detector = await loadNodeDetector(values.bundle ?? defaultBundleDir(), {
    ...(values.threads ? { threads: Number(values.threads) } : {}),
    onProgress: (p) => process.stderr.write(`model: ${p.stage}${p.backend ? ` (${p.backend})` : ''}\n`),
  });
  const miners = values.validator.map(
    (url) =>
      new NodeMiner({
        url,
        signer,
        netuid: Number(values.netuid),
        behaviour: values.behaviour as MinerBehaviour,
        detector,
        ...(values.accept ? { validator: values.accept } : {}),
        onEvent: (e) => process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), validator: url, ...e })}\n`),
      }),
  );
  await Promise.all(miners.map((m) => m.start()));
  process.stderr.write(`mining as ${signer.address} on ${values.validator.join(', ')}\n`);
  const stop = () => {
    for (const m of miners) m.stop();
    setTimeout(() => process.exit(0), 200);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
