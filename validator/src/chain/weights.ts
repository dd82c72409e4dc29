/**
 * Weights to the chain: converting scores to u16 weights the way bittensor does, the version key, and
 * `subtensorModule.setWeights` with the chain's rules checked first (rate limit, permit, version key, commit-reveal)
 * and every failure explained in plain words. Also commit/reveal for subnets with commit-reveal on.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec } from '@polkadot/types/types';
import { blake2AsHex, decodeAddress } from '@polkadot/util-crypto';
import { ChainTxError, isTransportError, retryTransport, submitTx, txCall, type RetryOptions } from './tx.js';

export const U16_MAX = 65535;

export interface U16Weights {
  /** Ascending uids with a non-zero weight. */
  uids: number[];
  /** u16 weights, the largest 65535. */
  weights: number[];
}

/**
 * Scores per uid -> u16 weights, max-upscaled so the largest is 65535 (what the chain does too), rounded, zeros left
 * out (as bittensor's convert_weights_and_uids_for_emit does: a uid left out has weight 0). All zero -> empty.
 * Throws on a negative or non-finite score, or a uid that is not a u16.
 */
export function toU16Weights(scores: Map<number, number> | Iterable<[number, number]>): U16Weights {
  const entries = [...(scores instanceof Map ? scores.entries() : scores)];
  for (const [uid, w] of entries) {
    if (!Number.isInteger(uid) || uid < 0 || uid > U16_MAX) throw new Error(`uid ${uid} is not a u16`);
    if (!Number.isFinite(w) || w < 0) throw new Error(`weight for uid ${uid} is ${w}: weights must be finite and >= 0`);
  }
  const max = entries.reduce((m, [, w]) => Math.max(m, w), 0);
  if (max === 0) return { uids: [], weights: [] };
  const out = entries
    .map(([uid, w]) => [uid, Math.round((w / max) * U16_MAX)] as const)
    .filter(([, w]) => w > 0)
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < out.length; i++) if (out[i]![0] === out[i - 1]![0]) throw new Error(`uid ${out[i]![0]} appears twice`);
  return { uids: out.map(([u]) => u), weights: out.map(([, w]) => w) };
}

/** '1.2.3' (or 'v1.2.3', '1.2.3-rc.1') -> major*1_000_000 + minor*1_000 + patch. */
export function versionKeyFrom(version: string): number {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version.trim());
  if (!m) throw new Error(`version "${version}" is not major.minor.patch`);
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (minor > 999 || patch > 999) throw new Error(`version "${version}": minor and patch must be below 1000`);
  const key = major * 1_000_000 + minor * 1_000 + patch;
  if (!Number.isSafeInteger(key)) throw new Error(`version "${version}" is too large`);
  return key;
}

/** Plain-words explanations of the subtensor errors a validator meets when setting weights. */
export const EXPLANATIONS: Record<string, string> = {
  SettingWeightsTooFast:
    'Weights were set too recently: the subnet allows one update per WeightsSetRateLimit blocks. Nothing is wrong; try again later.',
  NeuronNoValidatorPermit:
    'This hotkey has no validator permit on the subnet: permits go to the top validators by stake at each epoch. Add stake to the hotkey and wait for the next epoch.',
  IncorrectWeightVersionKey:
    "The validator's version key is below the subnet's WeightsVersionKey: the subnet requires a newer validator release. Update the validator.",
  CommitRevealEnabled:
    'This subnet has commit-reveal on: weights must be committed (commitWeights) and revealed later (revealWeights), not set directly.',
  CommitRevealDisabled: 'Commit-reveal is off on this subnet: set weights directly with setWeights.',
  HotKeyNotRegisteredInSubNet: 'This hotkey is not registered on the subnet (it has no uid): register it first.',
  HotKeyNotRegisteredInNetwork: 'This hotkey is not registered on any subnet: register it first.',
  HotKeyAccountNotExists: 'This hotkey does not exist on chain: register it on the subnet first.',
  NotEnoughStakeToSetWeights:
    "The hotkey's stake is below the minimum the chain requires to set weights (StakeThreshold). Add stake.",
  StakeAmountTooLow: "The hotkey's stake is below the minimum the chain requires to set weights (StakeThreshold). Add stake.",
  WeightVecNotEqualSize: 'The uid list and the weight list have different lengths (a bug in the caller).',
  DuplicateUids: 'The same uid appears twice in the weights (a bug in the caller).',
  UidVecContainInvalidOne: 'A uid in the weights does not exist on the subnet (the metagraph is stale): refresh it and retry.',
  UidsLengthExceedUidsInSubNet: 'More weights than neurons on the subnet (the metagraph is stale): refresh it and retry.',
  WeightVecLengthIsLow: "Fewer non-zero weights than the subnet's MinAllowedWeights: score more miners before setting weights.",
  MaxWeightExceeded: "A single weight is above the subnet's MaxWeightsLimit: spread the weights more evenly.",
  SubNetworkDoesNotExist: 'The subnet does not exist: check the netuid.',
  SubnetNotExists: 'The subnet does not exist: check the netuid.',
  TooManyUnrevealedCommits:
    'Too many weight commits are waiting to be revealed: reveal (or let them expire) before committing again.',
  CommittingWeightsTooFast: 'Weights were committed too recently (WeightsSetRateLimit applies to commits too): try again later.',
  NoWeightsCommitFound: 'There is no weight commit from this hotkey to reveal (it expired or was never made).',
  InvalidRevealCommitHashNotMatch: 'The revealed weights, salt or version key do not match the commit hash.',
  RevealTooEarly: 'The reveal came too early: reveal in the epoch RevealPeriodEpochs after the commit.',
  ExpiredWeightCommit: 'The commit expired before it was revealed: commit again.',
  TxRateLimitExceeded: 'The chain rate-limited this transaction: try again later.',
  InvalidTransaction: 'The chain refused the transaction before including it (see the chain error).',
  Transport: 'Could not reach the chain (connection failed or timed out) after several tries; the weights may not be set.',
  Timeout: 'The transaction was not included in time; the weights may not be set.',
};

/**
 * The transaction pool's custom codes for subtensor calls (CustomTransactionError in subtensor's transaction extension).
 * set_weights with too little stake is rejected here, before a block, with Custom(1).
 */
export const CUSTOM_TX_ERRORS: Record<number, string> = {
  0: 'ColdkeyInSwapSchedule',
  1: 'StakeAmountTooLow',
  2: 'BalanceTooLow',
  3: 'SubnetDoesntExist',
  4: 'HotkeyAccountDoesntExist',
  5: 'NotEnoughStakeToWithdraw',
  6: 'RateLimitExceeded',
  10: 'HotKeyNotRegisteredInNetwork',
};

export function explain(code: string): string {
  return EXPLANATIONS[code] ?? `The chain refused the weights (${code}).`;
}

export type SetWeightsResult =
  | { ok: true; block: number; blockHash: string; uid: number }
  | {
      ok: false;
      /** Subtensor error name (e.g. 'SettingWeightsTooFast'), or 'Transport' / 'InvalidTransaction'. */
      code: string;
      /** A plain-words sentence for logs and the status page. */
      explanation: string;
      /** The chain's own error text (`Section.Name: docs`) when the chain said no. */
      chainError?: string;
      /** Detected before submitting (nothing was sent). */
      precheck: boolean;
      /** For rate limits: the first block at which weights may be set again. */
      nextAllowedBlock?: number;
    };

export interface SetWeightsOptions {
  /** Check the chain's rules first and do not submit when one would fail (default true). */
  precheck?: boolean;
  retry?: RetryOptions;
  timeoutMs?: number;
}

type Q = Record<string, ((...args: unknown[]) => Promise<Codec>) | undefined>;
const sm = (api: ApiPromise) => api.query.subtensorModule as unknown as Q;
const num = (c: Codec) => Number(c.toString());
const optNum = (c: Codec): number | null => {
  const o = c as unknown as { isNone?: boolean; isSome?: boolean; unwrap?: () => Codec };
  if (o.isNone) return null;
  return o.isSome && o.unwrap ? num(o.unwrap()) : num(c);
};

export interface WeightsState {
  uid: number | null;
  head: number;
  rateLimit: number;
  lastUpdate: number;
  /** First block in which a setWeights/commit from this uid is accepted. */
  nextAllowedBlock: number;
  validatorPermit: boolean;
  versionKey: bigint;
  commitReveal: boolean;
  subnetN: number;
  minAllowedWeights: number;
}

/** What the chain's weight rules look like for `hotkey` on `netuid` right now. */
export async function weightsState(api: ApiPromise, netuid: number, hotkey: string): Promise<WeightsState> {
  const q = sm(api);
  const [uidC, head, rl, vk, cr, nC, minW] = await Promise.all([
    q.uids!(netuid, hotkey),
    api.rpc.chain.getHeader(),
    q.weightsSetRateLimit!(netuid),
    q.weightsVersionKey!(netuid),
    q.commitRevealWeightsEnabled!(netuid),
    q.subnetworkN!(netuid),
    q.minAllowedWeights!(netuid),
  ]);
  const uid = optNum(uidC);
  let lastUpdate = 0;
  let permit = false;
  if (uid !== null) {
    const [lu, pv] = await Promise.all([q.lastUpdate!(netuid), q.validatorPermit!(netuid)]);
    lastUpdate = Number((lu.toJSON() as number[])[uid] ?? 0);
    permit = (pv.toJSON() as boolean[])[uid] === true;
  }
  const rateLimit = num(rl);
  // Chain rule (check_rate_limit): allowed when last == 0 or block - last >= limit, `block` being the one the
  // extrinsic executes in.
  const nextAllowedBlock = lastUpdate === 0 ? 0 : lastUpdate + rateLimit;
  return {
    uid,
    head: head.number.toNumber(),
    rateLimit,
    lastUpdate,
    nextAllowedBlock,
    validatorPermit: permit,
    versionKey: BigInt(vk.toString()),
    commitReveal: cr.toString() === 'true',
    subnetN: num(nC),
    minAllowedWeights: num(minW),
  };
}

const fail = (
  code: string,
  precheck: boolean,
  extra: Partial<Extract<SetWeightsResult, { ok: false }>> = {},
): SetWeightsResult => ({
  ok: false,
  code,
  explanation: explain(code),
  precheck,
  ...extra,
});

/** Local and on-chain rule checks shared by setWeights and commitWeights; null when all pass. */
function precheckWeights(
  st: WeightsState,
  hotkey: string,
  netuid: number,
  uids: number[],
  values: number[],
  versionKey: number | bigint,
  mode: 'set' | 'commit',
): SetWeightsResult | null {
  if (uids.length !== values.length) return fail('WeightVecNotEqualSize', true);
  if (new Set(uids).size !== uids.length) return fail('DuplicateUids', true);
  if (values.some((v) => !Number.isInteger(v) || v < 0 || v > U16_MAX)) {
    return { ok: false, code: 'InvalidWeightValue', explanation: 'Weights must be integers in 0..65535.', precheck: true };
  }
  if (st.uid === null) {
    return fail('HotKeyNotRegisteredInSubNet', true, {
      explanation: `${explain('HotKeyNotRegisteredInSubNet')} (${hotkey}, netuid ${netuid})`,
    });
  }
  if (mode === 'set' && st.commitReveal) return fail('CommitRevealEnabled', true);
  if (mode === 'commit' && !st.commitReveal) return fail('CommitRevealDisabled', true);
  if (uids.some((u) => u >= st.subnetN)) return fail('UidVecContainInvalidOne', true);
  const selfOnly = uids.length === 1 && uids[0] === st.uid;
  if (!selfOnly && !st.validatorPermit) return fail('NeuronNoValidatorPermit', true);
  if (BigInt(versionKey) < st.versionKey) {
    return fail('IncorrectWeightVersionKey', true, {
      explanation: `${explain('IncorrectWeightVersionKey')} (ours ${versionKey}, the subnet requires ${st.versionKey})`,
    });
  }
  if (st.nextAllowedBlock > st.head + 1) {
    return fail(mode === 'set' ? 'SettingWeightsTooFast' : 'CommittingWeightsTooFast', true, {
      nextAllowedBlock: st.nextAllowedBlock,
      explanation: `rate-limited, next allowed at block ${st.nextAllowedBlock} (now ${st.head}; weights last set at block ${st.lastUpdate}, WeightsSetRateLimit ${st.rateLimit} blocks).`,
    });
  }
  return null;
}

/** Turn a failure from submitTx into a result (transport errors after retries included). */
function failureFrom(e: unknown, st: WeightsState | null): SetWeightsResult {
  if (e instanceof ChainTxError) {
    let code = e.code;
    const custom = /^InvalidTransaction\.Custom\((\d+)\)$/.exec(code);
    if (custom) code = CUSTOM_TX_ERRORS[Number(custom[1])] ?? code;
    const chainError = e.decoded?.text ?? e.message;
    const extra: Partial<Extract<SetWeightsResult, { ok: false }>> = { chainError };
    if ((code === 'SettingWeightsTooFast' || code === 'CommittingWeightsTooFast') && st) {
      extra.nextAllowedBlock = st.nextAllowedBlock;
      extra.explanation = `${explain(code)} Next allowed at block ${st.nextAllowedBlock}.`;
    }
    if (!(code in EXPLANATIONS) && e.decoded) extra.explanation = `The chain refused the weights: ${e.decoded.text}`;
    return fail(code, false, extra);
  }
  if (isTransportError(e)) return fail('Transport', false, { chainError: (e as Error).message });
  return fail('Error', false, { explanation: `Setting weights failed: ${(e as Error).message}` });
}

/**
 * Submit `subtensorModule.setWeights(netuid, uids, weights, versionKey)` signed by the hotkey and wait for inclusion.
 * Never throws for chain or transport failures: returns { ok:false, code, explanation }. With `precheck` (default) the
 * chain's rules are checked first and nothing is sent when one would fail (e.g. 'rate-limited, next allowed at block N').
 * Transport errors are retried with exponential backoff + jitter; before a retry it checks whether the weights
 * landed anyway (LastUpdate moved), so a lost reply does not become a double submission.
 */
export async function setWeights(
  api: ApiPromise,
  pair: KeyringPair,
  netuid: number,
  uids: number[],
  weights: number[],
  versionKey: number | bigint,
  opts: SetWeightsOptions = {},
): Promise<SetWeightsResult> {
  let st: WeightsState | null = null;
  try {
    st = await retryTransport(() => weightsState(api, netuid, pair.address), opts.retry);
  } catch (e) {
    if (opts.precheck !== false) return failureFrom(e, null);
  }
  if (opts.precheck !== false && st) {
    const bad = precheckWeights(st, pair.address, netuid, uids, weights, versionKey, 'set');
    if (bad) return bad;
  }
  const before = st?.lastUpdate ?? 0;
  const uid = st?.uid ?? -1;
  try {
    const r = await retryTransport(async (attempt) => {
      if (attempt > 0 && uid >= 0) {
        const landed = await landedSince(api, netuid, uid, before);
        if (landed) return landed;
      }
      return submitTx(api, pair, txCall(api, 'subtensorModule', 'setWeights')(netuid, uids, weights, versionKey), {
        step: 'setWeights',
        timeoutMs: opts.timeoutMs,
      });
    }, opts.retry);
    return { ok: true, block: r.block, blockHash: r.blockHash, uid };
  } catch (e) {
    return failureFrom(e, st);
  }
}

async function landedSince(api: ApiPromise, netuid: number, uid: number, before: number) {
  const lu = (await sm(api).lastUpdate!(netuid)).toJSON() as number[];
  const now = Number(lu[uid] ?? 0);
  if (now > before) {
    const blockHash = (await api.rpc.chain.getBlockHash(now)).toHex();
    return { block: now, blockHash, events: [] };
  }
  return null;
}

/** The weights `uid` has set on `netuid`, as a Map uid -> u16 (uids it did not weight are absent = 0). */
export async function readWeights(api: ApiPromise, netuid: number, uid: number): Promise<Map<number, number>> {
  const raw = (await sm(api).weights!(netuid, uid)).toJSON() as [number, number][];
  return new Map(raw.map(([u, w]) => [Number(u), Number(w)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Commit-reveal (v2: commitWeights(hash) then revealWeights(uids, values, salt, versionKey) one reveal period later)

/** SCALE compact length prefix (enough for vectors of any realistic size). */
function compactLen(n: number): Uint8Array {
  if (n < 1 << 6) return Uint8Array.of(n << 2);
  if (n < 1 << 14) return Uint8Array.of(((n << 2) | 1) & 0xff, n >> 6);
  if (n < 1 << 30) {
    const v = (n << 2) | 2;
    return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  throw new Error('vector too long');
}

const u16le = (v: number) => Uint8Array.of(v & 0xff, (v >> 8) & 0xff);
const vecU16 = (xs: number[]) => concat([compactLen(xs.length), ...xs.map(u16le)]);
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The commit hash exactly as subtensor computes it: BlakeTwo256 of the SCALE encoding of
 * (hotkey AccountId32, netuid u16, uids Vec<u16>, values Vec<u16>, salt Vec<u16>, version_key u64).
 */
export function commitHash(
  hotkey: string | Uint8Array,
  netuid: number,
  uids: number[],
  values: number[],
  salt: number[],
  versionKey: number | bigint,
): `0x${string}` {
  const account = typeof hotkey === 'string' ? decodeAddress(hotkey) : hotkey;
  if (account.length !== 32) throw new Error('hotkey must be a 32-byte account id');
  const vk = new Uint8Array(8);
  new DataView(vk.buffer).setBigUint64(0, BigInt(versionKey), true);
  return blake2AsHex(concat([account, u16le(netuid), vecU16(uids), vecU16(values), vecU16(salt), vk]), 256) as `0x${string}`;
}

/** A random salt (8 u16s, as bittensor uses). */
export function randomSalt(n = 8): number[] {
  const buf = new Uint16Array(n);
  crypto.getRandomValues(buf);
  return [...buf];
}

/** Epoch index of a block, as subtensor counts it: (block + netuid + 1) / (tempo + 1). */
export function epochIndex(block: number, netuid: number, tempo: number): number {
  return Math.floor((block + netuid + 1) / (tempo + 1));
}

/** Blocks in which a commit made at `commitBlock` can be revealed: the whole epoch `revealPeriod` epochs later. */
export function revealWindow(
  commitBlock: number,
  netuid: number,
  tempo: number,
  revealPeriod: number,
): { first: number; last: number } {
  const epoch = epochIndex(commitBlock, netuid, tempo) + revealPeriod;
  const first = epoch * (tempo + 1) - netuid - 1;
  return { first, last: first + tempo };
}

export interface PendingCommit {
  netuid: number;
  uids: number[];
  values: number[];
  salt: number[];
  versionKey: number | bigint;
  hash: `0x${string}`;
  commitBlock: number;
  /** Reveal in blocks first..last (inclusive). */
  reveal: { first: number; last: number };
}

/**
 * Commit weights (commit-reveal subnets). Keep the returned PendingCommit (salt included) and pass it to
 * revealWeights once the chain reaches `reveal.first`.
 */
export async function commitWeights(
  api: ApiPromise,
  pair: KeyringPair,
  netuid: number,
  uids: number[],
  values: number[],
  versionKey: number | bigint,
  opts: SetWeightsOptions & { salt?: number[] } = {},
): Promise<({ ok: true } & PendingCommit) | Extract<SetWeightsResult, { ok: false }>> {
  let st: WeightsState;
  try {
    st = await retryTransport(() => weightsState(api, netuid, pair.address), opts.retry);
  } catch (e) {
    return failureFrom(e, null) as Extract<SetWeightsResult, { ok: false }>;
  }
  if (opts.precheck !== false) {
    const bad = precheckWeights(st, pair.address, netuid, uids, values, versionKey, 'commit');
    if (bad) return bad as Extract<SetWeightsResult, { ok: false }>;
  }
  const salt = opts.salt ?? randomSalt();
  const hash = commitHash(pair.publicKey, netuid, uids, values, salt, versionKey);
  try {
    const r = await retryTransport(
      () => submitTx(api, pair, txCall(api, 'subtensorModule', 'commitWeights')(netuid, hash), { step: 'commitWeights' }),
      opts.retry,
    );
    const q = sm(api);
    const [tempo, period] = await Promise.all([q.tempo!(netuid), q.revealPeriodEpochs!(netuid)]);
    const reveal = revealWindow(r.block, netuid, num(tempo), num(period));
    return { ok: true, netuid, uids, values, salt, versionKey, hash, commitBlock: r.block, reveal };
  } catch (e) {
    return failureFrom(e, st) as Extract<SetWeightsResult, { ok: false }>;
  }
}

/** Reveal a commit made with commitWeights (in its reveal window). */
export async function revealWeights(
  api: ApiPromise,
  pair: KeyringPair,
  commit: PendingCommit,
  opts: SetWeightsOptions = {},
): Promise<SetWeightsResult> {
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  if (opts.precheck !== false && head + 1 < commit.reveal.first) {
    return fail('RevealTooEarly', true, {
      nextAllowedBlock: commit.reveal.first,
      explanation: `too early to reveal: the reveal window is blocks ${commit.reveal.first}..${commit.reveal.last} (now ${head}).`,
    });
  }
  try {
    const r = await retryTransport(
      () =>
        submitTx(
          api,
          pair,
          txCall(api, 'subtensorModule', 'revealWeights')(
            commit.netuid,
            commit.uids,
            commit.values,
            commit.salt,
            commit.versionKey,
          ),
          { step: 'revealWeights' },
        ),
      opts.retry,
    );
    const uid = optNum(await sm(api).uids!(commit.netuid, pair.address)) ?? -1;
    return { ok: true, block: r.block, blockHash: r.blockHash, uid };
  } catch (e) {
    return failureFrom(e, null);
  }
}
