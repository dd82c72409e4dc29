import { encodeModelCommitment } from '@veracity/protocol';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../log.js';
import type { MinerBundle } from '../status/types.js';
import { bundleFactor, BundleTracker, leaderboard, minerBundle } from './miner-bundles.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
/** A record as `commitmentOf(...).toJSON()` renders it: keys lower-cased, at a block. */
function onChain(sha256: string, version = '1.7.0', url = 'https://example.org/b/'): unknown {
  const fields = encodeModelCommitment({ sha256, version, url }).fields.map((f) =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k.toLowerCase(), v])),
  );
  return { deposit: 0, block: 42, info: { fields } };
}
const notOurs = { deposit: 0, block: 3, info: { fields: [{ raw4: '0x74657374' }] } };

describe('a miner bundle state: committed vs declared', () => {
  it('published: the declared sha256 is the committed one', () => {
    const b = minerBundle(onChain(A), A);
    expect(b).toMatchObject({ state: 'published', declared: A, committed: { sha256: A, version: '1.7.0', block: 42 } });
    expect(b.detail).toBe('runs its published bundle 1.7.0 (aaaaaaaaaaaa…)');
  });

  it('mismatch: declares another bundle than the committed one', () => {
    const b = minerBundle(onChain(A), B);
    expect(b.state).toBe('mismatch');
    expect(b.detail).toBe('declares bundle bbbbbbbbbbbb… but committed 1.7.0 (aaaaaaaaaaaa…)');
  });

  it('mismatch: declares a bundle and committed nothing, or something that is not a bundle', () => {
    expect(minerBundle(undefined, A)).toMatchObject({ state: 'mismatch', missing: 'none', committed: null });
    expect(minerBundle(notOurs, A)).toMatchObject({ state: 'mismatch', missing: 'not-ours' });
  });

  it('unpublished: declares nothing, with or without a commitment; a malformed record is named', () => {
    expect(minerBundle(undefined, null)).toMatchObject({ state: 'unpublished', missing: 'none' });
    expect(minerBundle(onChain(A), null)).toMatchObject({ state: 'unpublished', committed: { sha256: A } });
    expect(minerBundle(onChain(A), null).detail).toMatch(/committed 1\.7\.0 .* but declares no bundle in auth/);
    const bad = onChain(A) as { info: { fields: Array<Record<string, string>> } };
    bad.info.fields[2] = { raw3: '0x667470' }; // "ftp": a url field that is not a URL
    expect(minerBundle(bad, null)).toMatchObject({ state: 'unpublished', missing: 'bad' });
  });

  it('without a chain nothing can be checked: unpublished, never a mismatch', () => {
    expect(minerBundle(undefined, A, false)).toMatchObject({ state: 'unpublished', missing: 'no-chain', declared: A });
  });

  it('the unpublished share multiplies everything but published', () => {
    expect(bundleFactor({ state: 'published' }, 0)).toBe(1);
    expect(bundleFactor({ state: 'mismatch' }, 0)).toBe(0);
    expect(bundleFactor({ state: 'unpublished' }, 0.25)).toBe(0.25);
  });
});

describe('the leaderboard', () => {
  const bundle = (state: MinerBundle['state'], sha256?: string): MinerBundle => ({
    state,
    committed: sha256 ? { version: '1.0.0', sha256, url: 'https://x/' } : null,
    declared: sha256 ?? null,
    detail: '',
  });
  const scores = { image: 0.5, video: null, total: 0.5 };
  it('sorts by weight, then uid, and carries version, sha256 and state', () => {
    const rows = leaderboard([
      { uid: 3, hotkey: 'c', bundle: bundle('unpublished'), scores, weight: 0.2 },
      { uid: 2, hotkey: 'b', bundle: bundle('published', A), scores, weight: 0.4 },
      { uid: 1, hotkey: 'a', bundle: bundle('mismatch'), scores, weight: 0.2 },
      { uid: null, hotkey: 'd', bundle: bundle('published', B), scores, weight: 0.2 },
    ]);
    expect(rows.map((r) => r.hotkey)).toEqual(['b', 'a', 'c', 'd']);
    expect(rows[0]).toEqual({ uid: 2, hotkey: 'b', version: '1.0.0', sha256: A, state: 'published', scores, weight: 0.4 });
    expect(rows[1]).toMatchObject({ version: null, sha256: null, state: 'mismatch' });
  });
});

describe('BundleTracker', () => {
  function tracker(records: Map<string, unknown>, share = 0, rechecks: string[] = []) {
    const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
    const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push([level, msg, fields]);
    const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const mismatches: string[] = [];
    const t = new BundleTracker({
      commitment: (h) => records.get(h),
      unpublishedShare: share,
      log,
      onMismatch: (h) => mismatches.push(h),
      recheck: () => rechecks.push('recheck'),
    });
    return { t, lines, mismatches };
  }

  it('reports a mismatch once per change, not at every look, and again after it changes back and forth', () => {
    const records = new Map<string, unknown>([['m', onChain(A)]]);
    const rechecks: string[] = [];
    const { t, lines, mismatches } = tracker(records, 0, rechecks);
    t.declare('m', B);
    // Declaring what the last read does not show asks for a fresh read, and reports nothing yet.
    expect([rechecks, lines]).toEqual([['recheck'], []]);
    expect(t.of('m').state).toBe('mismatch');
    for (let i = 0; i < 5; i++) expect(t.factor('m')).toBe(0);
    expect(mismatches).toEqual(['m']);
    expect(lines.filter(([l]) => l === 'warn')).toHaveLength(1);
    expect(lines[0]![1]).toMatch(/miner bundle mismatch: scored as unpublished \(share 0\)/);
    // The miner publishes what it declares: published, logged once; the commitment changes again: a new mismatch.
    records.set('m', onChain(B));
    expect(t.factor('m')).toBe(1);
    expect(t.of('m').state).toBe('published');
    records.set('m', onChain(A, '2.0.0'));
    expect(t.of('m').state).toBe('mismatch');
    expect(mismatches).toEqual(['m', 'm']);
    expect(lines.map(([l]) => l)).toEqual(['warn', 'info', 'warn']);
  });

  it('a miner that reconnects declaring nothing is unpublished', () => {
    const rechecks: string[] = [];
    const { t } = tracker(new Map([['m', onChain(A)]]), 0.5, rechecks);
    t.declare('m', A);
    expect(t.of('m').state).toBe('published');
    t.declare('m', undefined);
    expect(t.of('m').state).toBe('unpublished');
    expect(rechecks).toEqual([]); // nothing declared that the chain does not show
    expect(t.factor('m')).toBe(0.5);
  });
});
