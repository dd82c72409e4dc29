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
import { parseArgs } from 'node:util';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { bootstrapSubnet } from '../src/chain/bootstrap.js';
import { keyFromUri } from '../src/chain/keys.js';
import { startLocalnet, type Localnet } from '../src/chain/localnet.js';
import { defaultSpec } from '../src/chain/spec.js';

const USAGE = `usage: tsx validator/bin/localnet.ts [--spec PATH|URL] [--spec-sha256 HEX] [--port 9944] [--db FILE] [--fresh]
                                     [--miners 3] [--validator URI] [--tempo 10] [--rate-limit 0] [--commit-reveal]`;

function fail(msg: string): never {
  process.stderr.write(`localnet: ${msg}\n`);
  process.exit(2);
}

function intFlag(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min} (got "${v}")\n${USAGE}`);
  return n;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
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
      strict: true,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = intFlag(args.port, 'port', 9944);
  const nMiners = intFlag(args.miners, 'miners', 3);
  const tempo = intFlag(args.tempo, 'tempo', 10, 1);
  const rateLimit = intFlag(args['rate-limit'], 'rate-limit', 0);
  const spec = args.spec ?? defaultSpec();
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

await main();
