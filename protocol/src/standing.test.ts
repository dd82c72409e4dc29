import { describe, expect, it } from 'vitest';
import { judgeValidator, readValidatorStanding, type StandingQueries } from './index.js';

const HOTKEY = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const codec = (v: unknown) => ({ toJSON: () => v, toString: () => String(v) });

/** Storage as the chain returns it: Option<u16> uids, Vec<bool> permits, u64 alpha in rao. */
function chain(uid: number | null, permits: boolean[], rao: bigint | undefined): StandingQueries {
  return {
    uids: async () => codec(uid),
    validatorPermit: async () => codec(permits),
    ...(rao === undefined ? {} : { totalHotkeyAlpha: async () => codec(rao.toString()) }),
  };
}

describe('validator standing', () => {
  it('reads uid, permit and stake (rao -> alpha) from storage', async () => {
    expect(await readValidatorStanding(chain(2, [false, false, true], 1_500_000_000_000n), 7, HOTKEY)).toEqual({
      hotkey: HOTKEY,
      netuid: 7,
      uid: 2,
      validatorPermit: true,
      stake: 1500,
    });
    expect(await readValidatorStanding(chain(null, [], 0n), 7, HOTKEY)).toEqual({
      hotkey: HOTKEY,
      netuid: 7,
      validatorPermit: false,
      stake: 0,
    });
    // A runtime without TotalHotkeyAlpha counts as no stake.
    expect((await readValidatorStanding(chain(0, [true], undefined), 7, HOTKEY)).stake).toBe(0);
  });

  it('mines for a registered validator with a permit and enough stake', () => {
    expect(judgeValidator({ hotkey: HOTKEY, netuid: 7, uid: 0, validatorPermit: true, stake: 1000 }, { minStake: 1000 })).toEqual(
      {
        ok: true,
      },
    );
    expect(judgeValidator({ hotkey: HOTKEY, netuid: 7, uid: 0, validatorPermit: true, stake: 0 }, { minStake: 0 }).ok).toBe(true);
  });

  it.each([
    [{ validatorPermit: false, stake: 0 }, 'it is not registered on subnet 7'],
    [{ uid: 3, validatorPermit: false, stake: 5000 }, 'uid 3 holds no validator permit on subnet 7, so its weights do not count'],
    [
      { uid: 3, validatorPermit: true, stake: 999.5 },
      'uid 3 has 999.500 alpha staked on subnet 7, less than the 1000 this miner requires',
    ],
  ])('refuses %j in plain words', (standing, why) => {
    const v = judgeValidator({ hotkey: HOTKEY, netuid: 7, ...standing }, { minStake: 1000 });
    expect(v).toEqual({ ok: false, code: 'E_VALIDATOR_REFUSED', message: `Not mining for validator 5GrwvaEF…: ${why}.` });
  });
});
