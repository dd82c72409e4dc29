/**
 * Turn a fresh dev chain (sudo available) into a subnet with a validator and miners, idempotently: each step checks
 * the chain first and is skipped when already done, so re-running on a bootstrapped chain changes nothing.
 *
 * Sequence (spec 293): sudoSetNetworkRateLimit(0) -> registerNetwork(hotkey) -> durationOfStartCall+1 blocks ->
 * startCall(netuid) -> hyperparameters through sudo (one utility.batch) -> burnedRegister per miner -> addStake for the
 * validator -> blocks until an epoch gives the validator its ValidatorPermit.
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec } from '@polkadot/types/types';
import { keyFromUri, toAddress } from './keys.js';
import { advanceBlocks, ChainTxError, hasTx, submitTx, txCall } from './tx.js';

export type KeyLike = string | KeyringPair;

export interface BootstrapProgress {
  /** Step name, e.g. 'register-network', 'register-miner', 'validator-permit'. */
  step: string;
  status: 'start' | 'done' | 'skip';
  detail?: string;
  /** Head block when reported. */
  block?: number;
  /** Time the step took (on 'done'). */
  ms?: number;
}

export interface BootstrapOptions {
  /** Sudo key (secret URI or pair); default '//Alice'. */
  sudo?: KeyLike;
  /** Coldkey that owns the subnet and pays for registrations and stake (URI or pair); default: the sudo key. */
  coldkey?: KeyLike;
  /** Validator hotkey: an ss58 address, a secret URI or a pair. It owns the subnet. */
  validatorHotkey: KeyLike;
  /** Miner hotkeys (ss58 addresses, URIs or pairs), registered with burnedRegister paid by the coldkey. */
  minerHotkeys: KeyLike[];
  /** Subnet tempo in blocks (default 10). */
  tempo?: number;
  /** WeightsSetRateLimit in blocks (default 0). */
  weightsSetRateLimit?: number;
  /** Leave commit-reveal on (default false: plain setWeights). */
  commitReveal?: boolean;
  /** MinAllowedWeights (default 1). */
  minAllowedWeights?: number;
  /** WeightsVersionKey to set on the subnet (default: left as it is). */
  weightsVersionKey?: number | bigint;
  /** Stake added to the validator hotkey, in rao (default 1000 TAO). */
  validatorStakeRao?: bigint;
  /** Use this netuid instead of finding/creating one (it must exist and be owned by the validator hotkey). */
  netuid?: number;
  /** Progress reports; bootstrapping takes tens of seconds. */
  onProgress?: (p: BootstrapProgress) => void;
}

export interface BootstrapResult {
  netuid: number;
  /** True when this run registered the subnet (false when an existing one owned by the hotkey was found). */
  created: boolean;
  validatorHotkey: string;
  validatorUid: number;
  /** hotkey address -> uid, in the order given. */
  minerUids: { hotkey: string; uid: number }[];
  block: number;
}

/** A bootstrap step failed; the message names the step and the chain's error. */
export class BootstrapError extends Error {
  constructor(
    readonly step: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`bootstrap step "${step}" failed: ${message}`, { cause });
    this.name = 'BootstrapError';
  }
}

type Q = Record<string, ((...args: unknown[]) => Promise<Codec>) & { entries?: () => Promise<[{ args: Codec[] }, Codec][]> }>;
const sm = (api: ApiPromise) => api.query.subtensorModule as unknown as Q;
const num = (c: Codec): number => Number((c as unknown as { toString(): string }).toString());
const optNum = (c: Codec): number | null => {
  const o = c as unknown as { isSome?: boolean; isNone?: boolean; unwrap?: () => Codec };
  if (o.isNone) return null;
  if (o.isSome && o.unwrap) return num(o.unwrap());
  return num(c);
};
const head = async (api: ApiPromise) => (await api.rpc.chain.getHeader()).number.toNumber();

async function toPair(k: KeyLike, name: string): Promise<KeyringPair> {
  return typeof k === 'string' ? keyFromUri(k, name) : k;
}

/** The lowest netuid (other than root) whose SubnetOwnerHotkey is `hotkey`, or null. */
export async function findOwnedSubnet(api: ApiPromise, hotkey: string): Promise<number | null> {
  const q = sm(api);
  const added = await q.networksAdded!.entries!();
  const netuids = added
    .filter(([, v]) => (v as unknown as { isTrue: boolean }).isTrue)
    .map(([k]) => num(k.args[0]!))
    .filter((n) => n !== 0)
    .sort((a, b) => a - b);
  for (const n of netuids) {
    if (q.subnetOwnerHotkey && (await q.subnetOwnerHotkey(n)).toString() === hotkey) return n;
  }
  return null;
}

export interface HyperparamOptions {
  weightsSetRateLimit?: number;
  commitReveal?: boolean;
  tempo?: number;
  minAllowedWeights?: number;
  weightsVersionKey?: number | bigint;
  targetRegistrationsPerInterval?: number;
  maxRegistrationsPerBlock?: number;
  /** Global stake threshold to set weights (sudoSetStakeThreshold; spec 218: sudoSetWeightsMinStake). */
  stakeThreshold?: number | bigint;
  /** sudoSetCommitRevealWeightsInterval (reveal period, in epochs). */
  commitRevealInterval?: number;
}

/**
 * Set subnet hyperparameters through sudo, only those that differ from the chain's values, in one
 * sudo(utility.batch(...)). Returns the names it changed. A failure names the hyperparameter and the chain's error.
 */
export async function sudoSetHyperparams(
  api: ApiPromise,
  sudo: KeyringPair,
  netuid: number,
  want: HyperparamOptions,
  step = 'hyperparameters',
): Promise<string[]> {
  const q = sm(api);
  const au = api.tx.adminUtils as unknown as Record<string, ((...a: unknown[]) => SubmittableExtrinsic<'promise'>) | undefined>;
  const calls: { name: string; call: SubmittableExtrinsic<'promise'> }[] = [];
  const add = async (
    name: string,
    current: () => Promise<string>,
    value: unknown,
    make: () => SubmittableExtrinsic<'promise'>,
  ) => {
    if (value === undefined) return;
    if ((await current()) === String(value)) return;
    calls.push({ name: `${name}=${String(value)}`, call: make() });
  };
  const n = netuid;
  if (want.stakeThreshold !== undefined) {
    if (au.sudoSetStakeThreshold && q.stakeThreshold) {
      await add(
        'StakeThreshold',
        async () => (await q.stakeThreshold!()).toString(),
        want.stakeThreshold,
        () => au.sudoSetStakeThreshold!(want.stakeThreshold),
      );
    } else if (au.sudoSetWeightsMinStake && q.weightsMinStake) {
      await add(
        'WeightsMinStake',
        async () => (await q.weightsMinStake!()).toString(),
        want.stakeThreshold,
        () => au.sudoSetWeightsMinStake!(want.stakeThreshold),
      );
    }
  }
  await add(
    'WeightsSetRateLimit',
    async () => (await q.weightsSetRateLimit!(n)).toString(),
    want.weightsSetRateLimit,
    () => au.sudoSetWeightsSetRateLimit!(n, want.weightsSetRateLimit),
  );
  await add(
    'CommitRevealWeightsEnabled',
    async () => (await q.commitRevealWeightsEnabled!(n)).toString(),
    want.commitReveal,
    () => au.sudoSetCommitRevealWeightsEnabled!(n, want.commitReveal),
  );
  if (want.commitRevealInterval !== undefined && q.revealPeriodEpochs) {
    await add(
      'RevealPeriodEpochs',
      async () => (await q.revealPeriodEpochs!(n)).toString(),
      want.commitRevealInterval,
      () => au.sudoSetCommitRevealWeightsInterval!(n, want.commitRevealInterval),
    );
  }
  await add(
    'TargetRegistrationsPerInterval',
    async () => (await q.targetRegistrationsPerInterval!(n)).toString(),
    want.targetRegistrationsPerInterval,
    () => au.sudoSetTargetRegistrationsPerInterval!(n, want.targetRegistrationsPerInterval),
  );
  await add(
    'MaxRegistrationsPerBlock',
    async () => (await q.maxRegistrationsPerBlock!(n)).toString(),
    want.maxRegistrationsPerBlock,
    () => au.sudoSetMaxRegistrationsPerBlock!(n, want.maxRegistrationsPerBlock),
  );
  await add(
    'Tempo',
    async () => (await q.tempo!(n)).toString(),
    want.tempo,
    () => au.sudoSetTempo!(n, want.tempo),
  );
  await add(
    'MinAllowedWeights',
    async () => (await q.minAllowedWeights!(n)).toString(),
    want.minAllowedWeights,
    () => au.sudoSetMinAllowedWeights!(n, want.minAllowedWeights),
  );
  await add(
    'WeightsVersionKey',
    async () => (await q.weightsVersionKey!(n)).toString(),
    want.weightsVersionKey,
    () => au.sudoSetWeightsVersionKey!(n, want.weightsVersionKey),
  );
  if (calls.length === 0) return [];
  const inner = calls.length === 1 ? calls[0]!.call : api.tx.utility.batch(calls.map((c) => c.call));
  try {
    await submitTx(api, sudo, api.tx.sudo.sudo(inner), { step });
  } catch (e) {
    if (e instanceof ChainTxError && e.decoded) {
      // utility.batch stops at the first failure and reports its index: name the hyperparameter.
      const idx = calls.length === 1 ? 0 : e.batchIndex;
      const which = idx !== undefined && calls[idx] ? ` (setting ${calls[idx]!.name})` : '';
      throw new BootstrapError(step, `${e.decoded.text}${which}`, e);
    }
    throw new BootstrapError(step, (e as Error).message, e);
  }
  return calls.map((c) => c.name);
}

/**
 * Bootstrap (or re-check) a subnet owned by the validator hotkey, with the miners registered and the validator
 * holding a ValidatorPermit. Idempotent. Needs sudo, and blocks on demand (chopsticks' dev_newBlock; on a real dev
 * node it waits for blocks instead).
 */
export async function bootstrapSubnet(api: ApiPromise, opts: BootstrapOptions): Promise<BootstrapResult> {
  const report = (p: BootstrapProgress) => opts.onProgress?.(p);
  const q = sm(api);
  const run = async <T>(step: string, fn: () => Promise<T>, detail?: string, describe?: (out: T) => string): Promise<T> => {
    const t0 = Date.now();
    report({ step, status: 'start', detail });
    try {
      const out = await fn();
      report({ step, status: 'done', detail: describe ? describe(out) : detail, ms: Date.now() - t0, block: await head(api) });
      return out;
    } catch (e) {
      if (e instanceof BootstrapError) throw e;
      const msg = e instanceof ChainTxError ? (e.decoded?.text ?? e.message.replace(`${step}: `, '')) : (e as Error).message;
      throw new BootstrapError(step, msg, e);
    }
  };
  const skip = async (step: string, detail?: string) => report({ step, status: 'skip', detail, block: await head(api) });

  const sudo = await toPair(opts.sudo ?? '//Alice', 'sudo key');
  const coldkey = opts.coldkey ? await toPair(opts.coldkey, 'coldkey') : sudo;
  const hotkey = await toAddress(opts.validatorHotkey);
  const miners = await Promise.all(opts.minerHotkeys.map((m) => toAddress(m)));
  if (new Set(miners).size !== miners.length) throw new BootstrapError('check-options', 'the miner hotkeys are not distinct');
  if (miners.includes(hotkey)) throw new BootstrapError('check-options', 'a miner hotkey is the validator hotkey');
  const tempo = opts.tempo ?? 10;

  await run('check-sudo', async () => {
    const key = (await api.query.sudo.key()).toString();
    if (key !== sudo.address) {
      throw new Error(
        `the chain's sudo key is ${key}, not ${sudo.address}; pass the sudo URI, or on chopsticks set it with dev_setStorage({ Sudo: { Key } })`,
      );
    }
  });

  // 1. find or create the subnet
  let netuid = opts.netuid ?? (await findOwnedSubnet(api, hotkey));
  let created = false;
  if (netuid !== null) {
    const owner = q.subnetOwnerHotkey ? (await q.subnetOwnerHotkey(netuid)).toString() : hotkey;
    if (!(await q.networksAdded!(netuid)).toString().includes('true')) {
      throw new BootstrapError('find-subnet', `netuid ${netuid} does not exist`);
    }
    if (owner !== hotkey) throw new BootstrapError('find-subnet', `netuid ${netuid} is owned by ${owner}, not ${hotkey}`);
    await skip('register-network', `netuid ${netuid} already owned by ${hotkey}`);
  } else {
    if (num(await q.networkRateLimit!()) !== 0) {
      await run('network-rate-limit', () =>
        submitTx(api, sudo, api.tx.sudo.sudo(txCall(api, 'adminUtils', 'sudoSetNetworkRateLimit')(0)), {
          step: 'network-rate-limit',
        }),
      );
    } else await skip('network-rate-limit', 'already 0');
    netuid = await run('register-network', async () => {
      const r = await submitTx(api, coldkey, txCall(api, 'subtensorModule', 'registerNetwork')(hotkey), {
        step: 'register-network',
      });
      const ev = r.events.find((e) => e.event.section === 'subtensorModule' && e.event.method === 'NetworkAdded');
      if (!ev) throw new Error('no NetworkAdded event');
      return num(ev.event.data[0]!);
    });
    created = true;
  }
  const n = netuid;

  // 2. hyperparameters (one sudo batch with whatever differs). These and the miners go in while the chain counts
  // down to startCall anyway: their blocks count towards DurationOfStartCall.
  const regs = Math.max(64, miners.length + 1);
  await run(
    'hyperparameters',
    () =>
      sudoSetHyperparams(api, sudo, n, {
        stakeThreshold: 0,
        weightsSetRateLimit: opts.weightsSetRateLimit ?? 0,
        commitReveal: opts.commitReveal ?? false,
        targetRegistrationsPerInterval: regs,
        maxRegistrationsPerBlock: regs,
        tempo,
        minAllowedWeights: opts.minAllowedWeights ?? 1,
        weightsVersionKey: opts.weightsVersionKey,
      }),
    undefined,
    (changed) => (changed.length ? changed.join(', ') : 'all already set'),
  );

  // 3. miners: the missing ones in one utility.batch (a failure is reported with the miner it stopped at)
  const uidOf = async (h: string) => optNum(await q.uids!(n, h));
  const missing: string[] = [];
  for (const m of miners) {
    const uid = await uidOf(m);
    if (uid === null) missing.push(m);
    else await skip('register-miners', `${m} already uid ${uid}`);
  }
  if (missing.length > 0) {
    await run(
      'register-miners',
      async () => {
        const calls = missing.map((m) => txCall(api, 'subtensorModule', 'burnedRegister')(n, m));
        try {
          await submitTx(api, coldkey, calls.length === 1 ? calls[0]! : api.tx.utility.batch(calls), { step: 'register-miners' });
        } catch (e) {
          if (e instanceof ChainTxError && e.decoded) {
            const at = missing[missing.length === 1 ? 0 : (e.batchIndex ?? -1)];
            throw new Error(`${e.decoded.text}${at ? ` (registering ${at})` : ''}`, { cause: e });
          }
          throw e;
        }
      },
      missing.join(', '),
    );
  }
  const minerUids: { hotkey: string; uid: number }[] = [];
  for (const m of miners) {
    const uid = await uidOf(m);
    if (uid === null) throw new BootstrapError('register-miners', `${m} has no uid after burnedRegister`);
    minerUids.push({ hotkey: m, uid });
  }

  // 4. start call (emissions and the subtoken, hence staking, start only DurationOfStartCall blocks after registration)
  if (q.firstEmissionBlockNumber && hasTx(api, 'subtensorModule', 'startCall')) {
    if (optNum(await q.firstEmissionBlockNumber(n)) === null) {
      const duration = num(
        (api.consts as unknown as Record<string, Record<string, Codec>>).subtensorModule!.durationOfStartCall!,
      );
      const registeredAt = num(await q.networkRegisteredAt!(n));
      const need = registeredAt + duration + 1 - (await head(api));
      if (need > 0) {
        await run('wait-start-call', () => advanceBlocks(api, need), `${need} blocks (DurationOfStartCall=${duration})`);
      }
      await run('start-call', () =>
        submitTx(api, coldkey, txCall(api, 'subtensorModule', 'startCall')(n), { step: 'start-call' }),
      );
    } else await skip('start-call', 'already started');
  }

  // 5. validator uid, stake and permit
  let validatorUid = optNum(await q.uids!(n, hotkey));
  if (validatorUid === null) {
    await run('register-validator', () =>
      submitTx(api, coldkey, txCall(api, 'subtensorModule', 'burnedRegister')(n, hotkey), { step: 'register-validator' }),
    );
    validatorUid = optNum(await q.uids!(n, hotkey));
    if (validatorUid === null) throw new BootstrapError('register-validator', `${hotkey} has no uid after burnedRegister`);
  }
  const vuid = validatorUid;
  const hasPermit = async () => {
    const permits = (await q.validatorPermit!(n)).toJSON() as boolean[];
    return permits[vuid] === true;
  };
  const alpha = q.totalHotkeyAlpha ? num(await q.totalHotkeyAlpha(hotkey, n)) : 0;
  if (alpha > 0 && (await hasPermit())) {
    await skip('add-stake', `validator already staked (${alpha} alpha) with a permit`);
  } else {
    const amount = opts.validatorStakeRao ?? 1_000_000_000_000n;
    await run(
      'add-stake',
      () => submitTx(api, coldkey, txCall(api, 'subtensorModule', 'addStake')(hotkey, n, amount), { step: 'add-stake' }),
      `${amount} rao`,
    );
  }
  if (await hasPermit()) await skip('validator-permit', `uid ${vuid} already has a permit`);
  else {
    await run('validator-permit', async () => {
      // The epoch (which hands out permits by stake) runs once per tempo+1 blocks; build blocks one at a time until
      // the permit shows up, for up to three tempos.
      const currentTempo = num(await q.tempo!(n));
      const limit = 3 * (currentTempo + 1);
      for (let i = 0; i < limit; i++) {
        await advanceBlocks(api, 1);
        if (await hasPermit()) return;
      }
      throw new Error(`uid ${vuid} still has no ValidatorPermit after ${limit} blocks (is it staked?)`);
    });
  }
  return { netuid: n, created, validatorHotkey: hotkey, validatorUid: vuid, minerUids, block: await head(api) };
}
