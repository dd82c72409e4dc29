// Integration: a real SQLite file (better-sqlite3), a real restart, and a real SIGKILL in the middle of writes.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODALITY_NAMES } from '@veracity/protocol';
import { describe, expect, it } from 'vitest';
import { scoreMiner } from './scoring.js';
import { type AnswerLog, Store } from './store.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'veracity-store-')), 'validator.db');
const answer = (hotkey: string, n: number, ai: number | null, truth: 0 | 1 = 1): AnswerLog => ({
  hotkey,
  challengeId: `c${n}`,
  modality: 'image',
  truth,
  ai,
  outcome: ai === null ? 'timeout' : 'ok',
  latencyMs: ai === null ? null : 10,
  at: 1000 + n,
});

/** Takes a current database back to schema 2's tables (before durable reveals), to test the upgrade. */
const TO_SCHEMA_2 = `DROP INDEX challenges_unrevealed; ALTER TABLE challenges DROP COLUMN hotkey;
  ALTER TABLE challenges DROP COLUMN salt; ALTER TABLE challenges DROP COLUMN revealed_window;`;

describe('store', () => {
  it('keeps windows newest-last, ignores a second answer to one challenge, and survives a restart', () => {
    const path = tmp();
    const store = new Store(path);
    store.recordAnswers(Array.from({ length: 8 }, (_, n) => answer('alice', n, n / 10, (n % 2) as 0 | 1)));
    store.recordAnswers([answer('alice', 7, 0.99)]); // duplicate of c7: ignored
    store.recordAnswers([answer('bob', 1, null)]);
    const window = store.window('alice', 'image', 5);
    expect(window.map((r) => r.ai)).toEqual([0.3, 0.4, 0.5, 0.6, 0.7]);
    const before = scoreMiner(store.window('alice', 'image', 200));
    store.close();

    const reopened = new Store(path);
    expect(scoreMiner(reopened.window('alice', 'image', 200))).toEqual(before);
    expect(reopened.window('bob', 'image', 200)).toEqual([{ modality: 'image', truth: 1, ai: null }]);
    expect(reopened.counts()).toEqual({ miners: 2, answers: 9, challenges: 0 });
    reopened.forgetMiner('bob');
    expect(reopened.window('bob', 'image', 200)).toEqual([]);
    reopened.close();
  });

  it('refuses impossible rows (constraints back up the protocol checks)', () => {
    const store = new Store(tmp());
    expect(() => store.recordAnswers([answer('x', 1, 1.5)])).toThrow(/CHECK/);
    expect(store.counts().answers).toBe(0);
    store.close();
  });

  it('accepts every modality in MODALITIES: a new one needs a migration step that widens the CHECKs', () => {
    const store = new Store(tmp());
    const answers = MODALITY_NAMES.map((modality, n) => ({ ...answer('carol', n, 0.5), modality }));
    store.recordAnswers(answers);
    for (const m of MODALITY_NAMES) expect(store.window('carol', m, 10)).toEqual([{ modality: m, truth: 1, ai: 0.5 }]);
    const tables = store.db.prepare(`SELECT sql FROM sqlite_master WHERE name IN ('challenges', 'answers')`).all() as Array<{
      sql: string;
    }>;
    expect(tables).toHaveLength(2);
    for (const { sql } of tables) expect(sql).toContain(`modality IN (${MODALITY_NAMES.map((m) => `'${m}'`).join(',')})`);
    store.close();
  });

  it('stores weight history in order', () => {
    const store = new Store(tmp());
    store.recordWeights({ at: 1, weights: { '1': 0.5, '2': 0.5 }, status: 'set' });
    store.recordWeights({ at: 2, weights: { '1': 1 }, status: 'failed', detail: 'SettingWeightsTooFast' });
    expect(store.weightHistory().map((w) => [w.at, w.status, w.detail])).toEqual([
      [1, 'set', undefined],
      [2, 'failed', 'SettingWeightsTooFast'],
    ]);
    store.close();
  });

  it('keeps a pending weight commit (salt included) across a restart until it is revealed', () => {
    const path = tmp();
    const store = new Store(path);
    const weightsId = store.recordWeights({ at: 5, weights: { '1': 1 }, status: 'pending', detail: 'committing' });
    const id = store.savePendingCommit({
      netuid: 2,
      hotkey: 'alice',
      hash: '0xabc',
      uids: [1, 3],
      values: [65535, 7],
      salt: [1, 2, 3],
      versionKey: '18446744073709551615', // u64::MAX stays exact
      commitBlock: null,
      revealFirst: null,
      revealLast: null,
      weightsId,
      createdAt: 5,
    });
    store.confirmCommit(id, 19, { first: 30, last: 40 });
    store.close();

    const reopened = new Store(path);
    expect(reopened.pendingCommits(2, 'bob')).toEqual([]);
    expect(reopened.pendingCommits(2, 'alice')).toEqual([
      {
        id,
        netuid: 2,
        hotkey: 'alice',
        hash: '0xabc',
        uids: [1, 3],
        values: [65535, 7],
        salt: [1, 2, 3],
        versionKey: '18446744073709551615',
        commitBlock: 19,
        revealFirst: 30,
        revealLast: 40,
        weightsId,
        createdAt: 5,
      },
    ]);
    reopened.updateWeightStatus(weightsId, 'set', 'revealed at block 30');
    reopened.deletePendingCommit(id);
    expect(reopened.pendingCommits(2, 'alice')).toEqual([]);
    expect(reopened.weightHistory()).toEqual([{ at: 5, weights: { '1': 1 }, status: 'set', detail: 'revealed at block 30' }]);
    reopened.close();
  });

  it('keeps every sent commitment until a window reveals it, across a reopen (durable reveals)', () => {
    const path = tmp();
    const store = new Store(path);
    const row = (id: string, hotkey: string) => ({
      id,
      hotkey,
      salt: id.padEnd(64, '0'),
      label: 'real',
      modality: 'image' as const,
      level: 'none',
      sourcePath: 'a.jpg',
      sourceGroup: 'g',
      createdAt: 1,
      deadline: 2,
    });
    store.logChallenges([row('a1', 'alice'), row('a2', 'alice'), row('a3', 'alice'), row('b1', 'bob'), row('c1', 'carol')]);
    // A challenge from before durable reveals (no hotkey, no salt) is never offered for a reveal.
    store.logChallenges([{ ...row('old', 'x'), hotkey: undefined, salt: undefined }]);
    store.markRevealed(['a1'], 'w-1');
    store.forgetUnsent(['c1']);
    store.close();
    const reopened = new Store(path);
    expect(reopened.unrevealed(10).map((r) => r.id)).toEqual(['a2', 'a3', 'b1']);
    expect(reopened.unrevealed(1).map((r) => [r.hotkey, r.id, r.salt.slice(0, 2)])).toEqual([
      ['alice', 'a3', 'a3'],
      ['bob', 'b1', 'b1'],
    ]);
    reopened.close();
  });

  it('upgrades a schema-2 database in place, keeping its challenges (none of them pending a reveal)', () => {
    const path = tmp();
    const store = new Store(path);
    store.logChallenges([
      { id: 'c', label: 'real', modality: 'image', level: 'none', sourcePath: 'a', sourceGroup: 'g', createdAt: 1, deadline: 2 },
    ]);
    store.db.exec(`${TO_SCHEMA_2} PRAGMA user_version = 2;`);
    store.close();
    const upgraded = new Store(path);
    expect(upgraded.db.pragma('user_version', { simple: true })).toBe(3);
    expect(upgraded.counts().challenges).toBe(1);
    expect(upgraded.unrevealed(10)).toEqual([]);
    upgraded.close();
  });

  it('upgrades a schema-1 database in place, keeping its rows', () => {
    const path = tmp();
    const store = new Store(path);
    store.recordAnswers([answer('alice', 1, 0.9)]);
    // What a validator from before commit-reveal left behind: schema 1, no pending_commits table.
    store.db.exec(`${TO_SCHEMA_2} DROP TABLE pending_commits; PRAGMA user_version = 1;`);
    store.close();
    const upgraded = new Store(path);
    expect(upgraded.db.pragma('user_version', { simple: true })).toBe(3);
    expect(upgraded.counts().answers).toBe(1);
    expect(upgraded.pendingCommits(2, 'alice')).toEqual([]);
    upgraded.close();
  });

  it('a process killed mid-write leaves a consistent database with whole rounds only', async () => {
    const path = tmp();
    const ROUND = 7;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'test-support/crash-writer.ts'), path, String(ROUND)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
    await new Promise((ok) => setTimeout(ok, 400));
    child.kill('SIGKILL');
    await new Promise((ok) => child.once('exit', ok));

    const store = new Store(path);
    expect(store.integrityOk()).toBe(true);
    const { answers } = store.counts();
    expect(answers).toBeGreaterThan(ROUND);
    expect(answers % ROUND).toBe(0);
    store.close();
  }, 30_000);
});
