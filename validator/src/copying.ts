/**
 * Copy detection, as pure functions over recent rounds. Every miner of a round gets its own variant of the same
 * item (own crop, size, quality, bytes), so a miner that answers for several hotkeys, or relays another miner's
 * answers, has to send the same answer for different bytes. Two honest miners agree on an item about as often as
 * their accuracies explain (both right or both wrong), and even when they run the same model their probabilities
 * differ, because they saw different crops. A copy agrees far more often than the accuracies explain, and with
 * (nearly) the same numbers.
 *
 * A pair is judged on its informative rounds only: the rounds both answered where at least one of the two said
 * something other than its prior. A miner's prior is its modal answer over the window (P(AI) rounded to 1e-3, the
 * most frequent, if it came more than once); an answer within `maxMedianGap` of it is the prior again (the gap
 * below calls such numbers the same). Why: two independent cheaters that each answer one constant (say the label
 * base rate) on most items, and something confident on the few items they each recognise, agree exactly on every
 * round where both said the constant. Counted, those rounds make them look like one stream (median gap 0, total
 * agreement); left out, what remains is each one's confident rounds, where the other said its prior: they differ.
 * A relay copies every answer of its source, the informative ones too, so on those it still agrees with a ~0 gap;
 * a relay of a mostly-constant source is flagged once the source has answered off its prior `minShared` times.
 *
 * A pair is flagged when, over at least `minShared` informative rounds:
 *   - decision agreement exceeds what independent errors at their accuracies give, by a z-score >= `minZ`:
 *       expected = accA * accB + (1 - accA) * (1 - accB),  z = (observed - expected) / sqrt(expected * (1 - expected) / n)
 *   - and the median |P_A(AI) - P_B(AI)| is at most `maxMedianGap` (the shipped model on two variants of one item
 *     differs by more; see bench/lookup-attack.ts for the measured gap between honest miners).
 *   - and both miners' answers vary over those rounds (std of P(AI) >= `minSpread`): a miner that said one number
 *     on every round judged has nothing in it to copy, whatever the other said.
 * Flagged pairs join into groups (connected components). A relay answers after its source, so the member that
 * answered first in most of the group's rounds is its likely source, the group's leader. With `policy: 'share'`
 * the group earns one miner's share: the leader keeps its score and the others get none (without a clear leader,
 * the group's mean score is split among its members).
 */

export interface RoundAnswers {
  /** 1 when the item was AI, 0 when real. */
  truth: 0 | 1;
  /** P(AI) per hotkey that answered in time (timeouts and invalid answers are left out). */
  answers: Map<string, number>;
  /**
   * When each answer arrived (any increasing measure: arrival rank, a clock), to tell a source from its relays. Not
   * the latency: each miner's clock starts at its own send, and a relay answers within a millisecond of its source.
   */
  arrival?: Map<string, number>;
}

export interface CopyOptions {
  minShared: number;
  minZ: number;
  maxMedianGap: number;
  minSpread: number;
}

export const DEFAULT_COPY_OPTIONS: CopyOptions = { minShared: 30, minZ: 3, maxMedianGap: 0.01, minSpread: 0.02 };

export interface PairEvidence {
  a: string;
  b: string;
  /** Rounds both answered. */
  together: number;
  /** Of those, the informative ones (at least one of the two answered off its prior): the rounds judged below. */
  shared: number;
  /** Share of those with the same decision (P(AI) >= 0.5 or not). */
  agreement: number;
  /** What independent errors at their accuracies on those rounds would give. */
  expected: number;
  z: number;
  /** Median |P_A - P_B| over the informative rounds. */
  medianGap: number;
  /** The smaller of the two miners' standard deviations of P(AI) over the informative rounds. */
  spread: number;
  flagged: boolean;
}

export interface CopyReport {
  pairs: PairEvidence[];
  /** Groups of hotkeys joined by flagged pairs, each sorted, largest first. */
  groups: string[][];
  /** Per group (same order): the member that answered first in most of the group's rounds, if one did. */
  leaders: Array<string | undefined>;
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface PairStats {
  together: number;
  shared: number;
  agree: number;
  rightA: number;
  rightB: number;
  gaps: number[];
  /** Sums of P and P^2 per side, for the spread. */
  sa: number;
  sa2: number;
  sb: number;
  sb2: number;
}

function add(stats: PairStats, truth: 0 | 1, pa: number, pb: number): void {
  const da = pa >= 0.5 ? 1 : 0;
  const db = pb >= 0.5 ? 1 : 0;
  stats.shared++;
  if (da === db) stats.agree++;
  if (da === truth) stats.rightA++;
  if (db === truth) stats.rightB++;
  stats.gaps.push(Math.abs(pa - pb));
  stats.sa += pa;
  stats.sa2 += pa * pa;
  stats.sb += pb;
  stats.sb2 += pb * pb;
}

function evidence(a: string, b: string, s: PairStats, o: CopyOptions): PairEvidence {
  if (s.shared === 0)
    return {
      a,
      b,
      together: s.together,
      shared: 0,
      agreement: Number.NaN,
      expected: Number.NaN,
      z: 0,
      medianGap: Number.NaN,
      spread: 0,
      flagged: false,
    };
  const accA = s.rightA / s.shared;
  const accB = s.rightB / s.shared;
  const agreement = s.agree / s.shared;
  const expected = accA * accB + (1 - accA) * (1 - accB);
  // Two perfect (or perfectly wrong) miners agree always, as expected: no evidence either way (z 0, not infinite).
  const variance = (expected * (1 - expected)) / s.shared;
  const z = variance > 0 ? (agreement - expected) / Math.sqrt(variance) : 0;
  const medianGap = median(s.gaps);
  const sd = (sum: number, sum2: number) => Math.sqrt(Math.max(0, sum2 / s.shared - (sum / s.shared) ** 2));
  const spread = Math.min(sd(s.sa, s.sa2), sd(s.sb, s.sb2));
  const flagged = s.shared >= o.minShared && z >= o.minZ && medianGap <= o.maxMedianGap && spread >= o.minSpread;
  return { a, b, together: s.together, shared: s.shared, agreement, expected, z, medianGap, spread, flagged };
}

const empty = (): PairStats => ({
  together: 0,
  shared: 0,
  agree: 0,
  rightA: 0,
  rightB: 0,
  gaps: [],
  sa: 0,
  sa2: 0,
  sb: 0,
  sb2: 0,
});

/**
 * Each hotkey's prior: its most frequent P(AI) over the rounds, rounded to 1e-3 (ties: the smaller), if that came
 * more than once. A model's continuous output seldom repeats to 1e-3: over a short window it has no prior (every
 * answer is informative), over a long one its mode is just its densest spot, which leaves few rounds out.
 */
export function priors(rounds: readonly RoundAnswers[]): Map<string, number> {
  const counts = new Map<string, Map<number, number>>();
  for (const r of rounds)
    for (const [h, p] of r.answers) {
      let c = counts.get(h);
      if (!c) counts.set(h, (c = new Map()));
      const k = Math.round(p * 1000);
      c.set(k, (c.get(k) ?? 0) + 1);
    }
  const out = new Map<string, number>();
  for (const [h, c] of counts) {
    let best: [number, number] | undefined;
    for (const [k, n] of c) if (!best || n > best[1] || (n === best[1] && k < best[0])) best = [k, n];
    if (best && best[1] > 1) out.set(h, best[0] / 1000);
  }
  return out;
}

/** Whether `p` is the hotkey's prior again (within `tolerance`: the gap the detector calls the same number). */
const atPrior = (p: number, prior: number | undefined, tolerance: number) =>
  prior !== undefined && Math.abs(p - prior) <= tolerance;

/** Counts a round both answered, and adds it to the evidence unless both answered their priors. */
function addPair(s: PairStats, truth: 0 | 1, pa: number, pb: number, bothAtPrior: boolean): void {
  s.together++;
  if (!bothAtPrior) add(s, truth, pa, pb);
}

/** Evidence for one pair over the informative rounds both answered (priors taken over all of `rounds`). */
export function pairEvidence(
  rounds: readonly RoundAnswers[],
  a: string,
  b: string,
  o: CopyOptions = DEFAULT_COPY_OPTIONS,
): PairEvidence {
  const prior = priors(rounds);
  const s = empty();
  for (const r of rounds) {
    const pa = r.answers.get(a);
    const pb = r.answers.get(b);
    if (pa === undefined || pb === undefined) continue;
    const tol = o.maxMedianGap;
    addPair(s, r.truth, pa, pb, atPrior(pa, prior.get(a), tol) && atPrior(pb, prior.get(b), tol));
  }
  return evidence(a, b, s, o);
}

/**
 * Every pair of hotkeys that answered a round together, and the groups the flagged ones form. One pass over the
 * rounds, pairs within each round only: with 50 of 1000 miners sampled per round, most pairs never meet.
 */
export function detectCopying(rounds: readonly RoundAnswers[], o: CopyOptions = DEFAULT_COPY_OPTIONS): CopyReport {
  const prior = priors(rounds);
  const stats = new Map<string, PairStats>();
  for (const r of rounds) {
    const entries = [...r.answers]
      .sort((x, y) => (x[0] < y[0] ? -1 : 1))
      .map(([h, p]) => [h, p, atPrior(p, prior.get(h), o.maxMedianGap)] as const);
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        const [a, pa, priorA] = entries[i]!;
        const [b, pb, priorB] = entries[j]!;
        const key = `${a}\n${b}`;
        let s = stats.get(key);
        if (!s) stats.set(key, (s = empty()));
        addPair(s, r.truth, pa, pb, priorA && priorB);
      }
    }
  }
  const pairs = [...stats].map(([key, s]) => {
    const [a, b] = key.split('\n') as [string, string];
    return evidence(a, b, s, o);
  });
  const parent = new Map<string, string>();
  const find = (h: string): string => {
    let x = h;
    while ((parent.get(x) ?? x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const e of pairs) if (e.flagged) parent.set(find(e.a), find(e.b));
  const byRoot = new Map<string, string[]>();
  for (const h of new Set(pairs.filter((e) => e.flagged).flatMap((e) => [e.a, e.b])))
    byRoot.set(find(h), [...(byRoot.get(find(h)) ?? []), h]);
  const groups = [...byRoot.values()].map((g) => g.sort()).sort((x, y) => y.length - x.length);
  return { pairs, groups, leaders: groups.map((g) => leaderOf(rounds, g)) };
}

/** The member whose answer arrived first among the members that answered, in a majority of rounds, if any. */
function leaderOf(rounds: readonly RoundAnswers[], group: readonly string[]): string | undefined {
  const firsts = new Map<string, number>();
  let counted = 0;
  for (const r of rounds) {
    let best: [string, number] | undefined;
    for (const h of group) {
      const t = r.arrival?.get(h);
      if (t !== undefined && r.answers.has(h) && (best === undefined || t < best[1])) best = [h, t];
    }
    if (best === undefined) continue;
    counted++;
    firsts.set(best[0], (firsts.get(best[0]) ?? 0) + 1);
  }
  const [top] = [...firsts].sort((x, y) => y[1] - x[1]);
  return top !== undefined && top[1] > counted / 2 ? top[0] : undefined;
}

/**
 * Scores with each flagged group reduced to one share, so five hotkeys relaying one answer stream earn what one miner
 * with that stream earns: the group's leader (its likely source) keeps its score and the rest get none; a group
 * without a leader has its mean score split evenly among its members.
 */
export function shareGroups<K>(
  scores: Map<K, number>,
  groups: ReadonlyArray<readonly K[]>,
  leaders: ReadonlyArray<K | undefined> = [],
): Map<K, number> {
  const out = new Map(scores);
  for (const [i, g] of groups.entries()) {
    const members = g.filter((k) => scores.has(k));
    if (members.length < 2) continue;
    const leader = leaders[i];
    if (leader !== undefined && members.includes(leader)) {
      for (const k of members) if (k !== leader) out.set(k, 0);
      continue;
    }
    const mean = members.reduce((s, k) => s + scores.get(k)!, 0) / members.length;
    for (const k of members) out.set(k, mean / members.length);
  }
  return out;
}
