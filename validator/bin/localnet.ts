/**
 * A local subtensor chain with a ready subnet, for development:
 *
 *   tsx validator/bin/localnet.ts [--spec PATH|URL] [--spec-sha256 HEX] [--port 9944] [--db FILE] [--miners N]
 *                                 [--validator URI] [--tempo 10] [--rate-limit 0] [--commit-reveal]
 *
 * Starts chopsticks on the raw spec (VERACITY_CHAIN_SPEC or ../shared/chain/aura-dev-raw-293.json), bootstraps a
 * subnet owned by the validator hotkey (//Alice unless --validator or VERACITY_LOCALNET_VALIDATOR_URI) with N miner
 * hotkeys (//Miner1..N), prints ONE JSON line on stdout ({ endpoint, netuid, validator, miners, ... }) and runs until
 * SIGINT/SIGTERM. Progress goes to stderr. With --db the chain is kept in that SQLite file and resumed from it on the
 * next start (bootstrap is idempotent, so a resumed chain is only re-checked).
 */
import { existsSync, rmSync } from 'node:fs';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { intFlag, parseCli, runCli, UsageError } from '@veracity/models/cli';
import { bootstrapSubnet } from '../src/chain/bootstrap.js';
import { keyFromUri } from '../src/chain/keys.js';
import { startLocalnet, type Localnet } from '../src/chain/localnet.js';
import { defaultSpec } from '../src/chain/spec.js';

const PROGRAM = 'localnet';
const USAGE = `usage: npm run localnet -- [options]   (or: tsx validator/bin/localnet.ts [options])

Starts the real subtensor runtime offline under chopsticks, bootstraps a subnet (the validator hotkey with a permit,
//Miner1..N registered), prints ONE JSON line on stdout (endpoint, netuid, uids) and runs until Ctrl-C. Progress on
stderr.

  --spec PATH|URL     raw subtensor chain spec [VERACITY_CHAIN_SPEC, default ../shared/chain/aura-dev-raw-293.json]
  --spec-sha256 HEX   sha256 of the spec; required for a URL (downloaded once, then cached)
  --port N            websocket port; 0 picks a free one; a taken port moves up by itself [default 9944]
  --db FILE           keep the chain in this SQLite file and resume from it next time [default: in memory]
  --fresh             with --db: forget the saved chain and start from genesis
  --miners N          miner hotkeys to register, //Miner1..N [default 3]
  --validator URI     validator hotkey, owner of the subnet [VERACITY_LOCALNET_VALIDATOR_URI, default //Alice]
  --tempo N           subnet tempo in blocks (blocks per epoch) [default 10]
  --rate-limit N      WeightsSetRateLimit in blocks (0: weights may be set every block) [default 0]
  --commit-reveal     turn commit-reveal weights on for the subnet
  -h, --help          this text`;

async function main(): Promise<void> {
  const args = parseCli(
    PROGRAM,
    process.argv.slice(2),
    {
      spec: { type: 'string' },
      'spec-sha256': { type: 'string' },
      port: { type: 'string' },
      db: { type: 'string' },
      fresh: { type: 'boolean' },
      miners: { type: 'string' },
      validator: { type: 'string' },
      tempo: { type: 'string' },
      'rate-limit': { type: 'string' },
      'commit-reveal': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    'npm run localnet -- --help',
  );
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = intFlag('port', args.port, 0, 65535) ?? 9944;
  const nMiners = intFlag('miners', args.miners, 0, 64) ?? 3;
  const tempo = intFlag('tempo', args.tempo, 1, 1000) ?? 10;
  const rateLimit = intFlag('rate-limit', args['rate-limit'], 0) ?? 0;
  const spec = args.spec ?? defaultSpec();
  const isUrl = /^https?:\/\//i.test(spec);
  if (!isUrl && !existsSync(spec))
    throw new UsageError(
      `no chain spec at ${spec}`,
      'pass --spec PATH (or set VERACITY_CHAIN_SPEC) to a raw subtensor chain spec, or its URL with --spec-sha256',
    );
  const validatorUri = args.validator ?? process.env.VERACITY_LOCALNET_VALIDATOR_URI ?? '//Alice';
  if (args.fresh && args.db) {
    // chopsticks overwrites blocks by number, so an old longer chain would leave stale blocks above the new head
    for (const f of [args.db, `${args.db}-wal`, `${args.db}-shm`, `${args.db}-journal`]) rmSync(f, { force: true });
  }
  const resume = Boolean(args.db && existsSync(args.db));
  const log = (m: string) => process.stderr.write(`localnet: ${m}\n`);

  let net: Localnet | null = null;
  let api: ApiPromise | null = null;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    const guard = setTimeout(() => process.exit(code), 10_000);
    guard.unref();
    await api?.disconnect().catch(() => undefined);
    await net?.close().catch((e: unknown) => log(`close: ${(e as Error).message}`));
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    const t0 = Date.now();
    log(`starting chopsticks on ${spec}${args.db ? ` (db ${args.db}${resume ? ', resuming' : ''})` : ''}`);
    net = await startLocalnet({ spec, specSha256: args['spec-sha256'], port, db: args.db, resume });
    if (net.port !== port && port !== 0) log(`port ${port} was taken; chopsticks moved to ${net.port}`);
    log(`chain up at ${net.endpoint} (block ${net.startBlock}, ${Date.now() - t0} ms); bootstrapping the subnet`);
    api = await ApiPromise.create({ provider: new WsProvider(net.endpoint), noInitWarn: true });
    const validator = await keyFromUri(validatorUri, 'validator hotkey');
    const minerUris = Array.from({ length: nMiners }, (_, i) => `//Miner${i + 1}`);
    const result = await bootstrapSubnet(api, {
      validatorHotkey: validator,
      minerHotkeys: minerUris,
      tempo,
      weightsSetRateLimit: rateLimit,
      commitReveal: Boolean(args['commit-reveal']),
      onProgress: (p) => {
        if (p.status === 'start') return;
        const extra = [p.detail, p.ms !== undefined ? `${p.ms} ms` : '', p.block !== undefined ? `block ${p.block}` : '']
          .filter(Boolean)
          .join(', ');
        log(`${p.step}: ${p.status}${extra ? ` (${extra})` : ''}`);
      },
    });
    const out = {
      endpoint: net.endpoint,
      netuid: result.netuid,
      block: result.block,
      created: result.created,
      validator: {
        uri: validatorUri.startsWith('//') ? validatorUri : undefined,
        hotkey: result.validatorHotkey,
        uid: result.validatorUid,
      },
      miners: result.minerUids.map((m, i) => ({ uri: minerUris[i], hotkey: m.hotkey, uid: m.uid })),
      spec,
      db: args.db ?? null,
      slotDurationMs: net.slotDurationMs,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    log(`ready in ${Date.now() - t0} ms; Ctrl-C to stop`);
  } catch (e) {
    log(`error: ${(e as Error).message}`);
    await stop(1);
  }
}

await runCli(PROGRAM, main);
