/**
 * Miners check their validators: a miner works only for a validator hotkey that is registered on the subnet, holds a
 * validator permit, and has at least a configured stake there, read from the chain. A hotkey without a permit cannot
 * set weights, so its challenges earn nothing; one without stake has nothing at risk for scoring dishonestly. Both
 * miners (Node and browser) use these two functions: the reading takes the chain's storage queries as an argument
 * (api.query.subtensorModule from @polkadot/api), so this module stays pure.
 */

/** What the chain says about a validator hotkey on one subnet. */
export interface ValidatorStanding {
  hotkey: string;
  netuid: number;
  /** Block the standing was read at. */
  block?: number;
  /** Its uid; undefined when the hotkey is not registered on the subnet. */
  uid?: number;
  validatorPermit: boolean;
  /** Alpha staked to the hotkey on the subnet (TotalHotkeyAlpha), in alpha (rao / 1e9). */
  stake: number;
}

export interface ValidatorRequirements {
  /** Least stake (alpha on the subnet) a validator must hold; 0 requires only the permit. */
  minStake: number;
}

export type StandingVerdict = { ok: true } | { ok: false; code: 'E_VALIDATOR_REFUSED'; message: string };

const short = (hotkey: string) => `${hotkey.slice(0, 8)}…`;
const alpha = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));

/** Whether to mine for a validator, and if not, why, in plain words. */
export function judgeValidator(s: ValidatorStanding, r: ValidatorRequirements): StandingVerdict {
  const who = `validator ${short(s.hotkey)}`;
  const refuse = (why: string): StandingVerdict => ({
    ok: false,
    code: 'E_VALIDATOR_REFUSED',
    message: `Not mining for ${who}: ${why}.`,
  });
  if (s.uid === undefined) return refuse(`it is not registered on subnet ${s.netuid}`);
  if (!s.validatorPermit)
    return refuse(`uid ${s.uid} holds no validator permit on subnet ${s.netuid}, so its weights do not count`);
  if (s.stake < r.minStake)
    return refuse(
      `uid ${s.uid} has ${alpha(s.stake)} alpha staked on subnet ${s.netuid}, less than the ${alpha(r.minStake)} this miner requires`,
    );
  return { ok: true };
}

/** The storage queries readValidatorStanding needs (a subset of api.query.subtensorModule). */
export interface StandingQueries {
  uids: (netuid: number, hotkey: string) => Promise<{ toJSON(): unknown }>;
  validatorPermit: (netuid: number) => Promise<{ toJSON(): unknown }>;
  totalHotkeyAlpha?: (hotkey: string, netuid: number) => Promise<{ toString(): string }>;
}

/** Reads a validator's standing from the chain's storage (at the head the queries read). */
export async function readValidatorStanding(q: StandingQueries, netuid: number, hotkey: string): Promise<ValidatorStanding> {
  const [uidRaw, stakeRaw] = await Promise.all([
    q.uids(netuid, hotkey),
    q.totalHotkeyAlpha ? q.totalHotkeyAlpha(hotkey, netuid) : Promise.resolve(undefined),
  ]);
  const uidJson = uidRaw.toJSON();
  const stake = stakeRaw === undefined ? 0 : Number(BigInt(stakeRaw.toString())) / 1e9;
  if (uidJson === null || uidJson === undefined) return { hotkey, netuid, validatorPermit: false, stake };
  const uid = Number(uidJson);
  const permits = (await q.validatorPermit(netuid)).toJSON() as boolean[];
  return { hotkey, netuid, uid, validatorPermit: permits[uid] === true, stake };
}
