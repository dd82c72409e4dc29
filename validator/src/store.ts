import Database from 'better-sqlite3';
import type { Modality } from '@veracity/protocol';
import type { AnswerRecord } from './scoring.js';

/**
 * Validator state in one SQLite file: miners, every answer (the scoring windows are the newest rows), the
 * challenge log and the weight history. WAL plus one transaction per write means a crash at any instant leaves the
 * last committed state intact: a restart resumes with no scores lost.
 */
export type Outcome = 'ok' | 'timeout' | 'invalid';

export interface ChallengeLog {
  id: string;
  /** The miner this variant was sent to, and the salt of its label commitment (kept until revealed). */
  hotkey?: string;
  salt?: string;
  label: string;
  modality: Modality;
  level: string;
  sourcePath: string;
  sourceGroup: string;
  createdAt: number;
  deadline: number;
}

export interface AnswerLog {
  hotkey: string;
  challengeId: string;
  modality: Modality;
  truth: 0 | 1;
  /** P(AI), null for timeouts and invalid answers. */
  ai: number | null;
  outcome: Outcome;
  latencyMs: number | null;
  at: number;
}

export interface WeightLog {
  at: number;
  weights: Record<string, number>;
  status: 'pending' | 'set' | 'failed';
  detail?: string;
}

/**
 * A weight commit (commit-reveal subnets) waiting to be revealed. Saved before the commit is sent (commitBlock null
 * until the chain includes it), so a validator that stops in between still has the salt to reveal with.
 */
export interface PendingCommitRow {
  id: number;
  netuid: number;
  hotkey: string;
  hash: string;
  uids: number[];
  values: number[];
  salt: number[];
  /** u64 as a decimal string (exact beyond 2^53). */
  versionKey: string;
  /** Block that included the commit; null while unconfirmed. */
  commitBlock: number | null;
  /** Reveal window (inclusive), from the chain's RevealPeriodEpochs and tempo; null while unconfirmed. */
  revealFirst: number | null;
  revealLast: number | null;
  /** Row of the weight history this commit belongs to (status 'pending' until revealed). */
  weightsId: number | null;
  createdAt: number;
}

/** A challenge whose label commitment went out and whose reveal has not: what a restart must still reveal. */
export interface UnrevealedChallenge {
  hotkey: string;
  id: string;
  label: string;
  salt: string;
}

const SCHEMA_VERSION = 3;

export class Store {
  readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed answer survives power loss too, not only a process crash; the write rate is small.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(`database schema ${version} is newer than this validator (${SCHEMA_VERSION}): upgrade the validator`);
    // Each step takes the schema from version i to i + 1, in one transaction: an old db is upgraded in place. Steps
    // are history, never edited: a new entry in MODALITIES needs a step that widens the modality CHECKs below
    // (store.int.test.ts fails until one does).
    const steps = [
      `
      CREATE TABLE IF NOT EXISTS miners (
        hotkey TEXT PRIMARY KEY,
        uid INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS challenges (
        id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        modality TEXT NOT NULL CHECK (modality IN ('image','video')),
        level TEXT NOT NULL,
        source_path TEXT NOT NULL,
        source_group TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deadline INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        hotkey TEXT NOT NULL REFERENCES miners(hotkey),
        challenge_id TEXT NOT NULL,
        modality TEXT NOT NULL CHECK (modality IN ('image','video')),
        truth INTEGER NOT NULL CHECK (truth IN (0,1)),
        ai REAL CHECK (ai IS NULL OR (ai >= 0 AND ai <= 1)),
        outcome TEXT NOT NULL CHECK (outcome IN ('ok','timeout','invalid')),
        latency_ms REAL,
        at INTEGER NOT NULL,
        UNIQUE (hotkey, challenge_id)
      );
      CREATE INDEX IF NOT EXISTS answers_window ON answers (hotkey, modality, id);
      CREATE TABLE IF NOT EXISTS weights (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        weights TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT
      );`,
      `
      CREATE TABLE IF NOT EXISTS pending_commits (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        netuid INTEGER NOT NULL,
        hotkey TEXT NOT NULL,
        hash TEXT NOT NULL,
        uids TEXT NOT NULL,
        weight_values TEXT NOT NULL,
        salt TEXT NOT NULL,
        version_key TEXT NOT NULL,
        commit_block INTEGER,
        reveal_first INTEGER,
        reveal_last INTEGER,
        weights_id INTEGER REFERENCES weights(id),
        created_at INTEGER NOT NULL,
        UNIQUE (netuid, hotkey, hash)
      );`,
      // Durable reveals: who each variant went to, its commitment's salt, and the window that revealed it (NULL while
      // pending), so a restarted validator still opens every commitment it made.
      `
      ALTER TABLE challenges ADD COLUMN hotkey TEXT;
      ALTER TABLE challenges ADD COLUMN salt TEXT;
      ALTER TABLE challenges ADD COLUMN revealed_window TEXT;
      CREATE INDEX IF NOT EXISTS challenges_unrevealed ON challenges (hotkey)
        WHERE salt IS NOT NULL AND revealed_window IS NULL;`,
    ];
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.exec(`BEGIN; ${steps[v]} PRAGMA user_version = ${v + 1}; COMMIT;`);
    }
  }

  upsertMiner(hotkey: string, at: number, uid?: number): void {
    this.db
      .prepare(
        `INSERT INTO miners (hotkey, uid, first_seen, last_seen) VALUES (?, ?, ?, ?)
         ON CONFLICT(hotkey) DO UPDATE SET last_seen = excluded.last_seen, uid = COALESCE(excluded.uid, miners.uid)`,
      )
      .run(hotkey, uid ?? null, at, at);
  }

  /** A uid whose hotkey changed on chain starts with an empty history. */
  forgetMiner(hotkey: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM answers WHERE hotkey = ?').run(hotkey);
      this.db.prepare('DELETE FROM miners WHERE hotkey = ?').run(hotkey);
    })();
  }

  /**
   * Logs a round's challenges (one per miner's variant) in one transaction: a commit costs ≈ 7 ms on this disk
   * whatever its size, so one per variant held the event loop 350 ms per round of 50 miners.
   */
  logChallenges(rows: ChallengeLog[]): void {
    const insert = this.db.prepare(
      `INSERT INTO challenges (id, hotkey, salt, label, modality, level, source_path, source_group, created_at, deadline)
       VALUES (@id, @hotkey, @salt, @label, @modality, @level, @sourcePath, @sourceGroup, @createdAt, @deadline)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.db.transaction((all: ChallengeLog[]) => {
      for (const c of all) insert.run({ hotkey: null, salt: null, ...c });
    })(rows);
  }

  /** Records that `window` revealed these challenges (one transaction), so a restart does not reveal them again. */
  markRevealed(ids: string[], window: string): void {
    const update = this.db.prepare('UPDATE challenges SET revealed_window = ? WHERE id = ?');
    this.db.transaction((all: string[]) => {
      for (const id of all) update.run(window, id);
    })(ids);
  }

  /** Forgets the salts of challenges that were never sent (a miner gone between log and send): nothing to reveal. */
  forgetUnsent(ids: string[]): void {
    const update = this.db.prepare("UPDATE challenges SET salt = NULL, revealed_window = 'unsent' WHERE id = ?");
    this.db.transaction((all: string[]) => {
      for (const id of all) update.run(id);
    })(ids);
  }

  /** Challenges with a commitment out and no reveal yet, oldest first: at most `perHotkey` (the newest) per miner. */
  unrevealed(perHotkey: number): UnrevealedChallenge[] {
    return this.db
      .prepare(
        `SELECT hotkey, id, label, salt FROM (
           SELECT hotkey, id, label, salt, rowid AS r,
             ROW_NUMBER() OVER (PARTITION BY hotkey ORDER BY rowid DESC) AS newest
           FROM challenges WHERE salt IS NOT NULL AND revealed_window IS NULL AND hotkey IS NOT NULL)
         WHERE newest <= ? ORDER BY r`,
      )
      .all(perHotkey) as UnrevealedChallenge[];
  }

  /**
   * Records a batch of answers in one transaction (the server writes what arrived in one event-loop turn, and a
   * round's timeouts when it closes); a second answer from one miner to one challenge is ignored.
   */
  recordAnswers(answers: AnswerLog[]): void {
    const insert = this.db.prepare(
      // ON CONFLICT, not OR IGNORE: OR IGNORE would also swallow CHECK violations silently.
      `INSERT INTO answers (hotkey, challenge_id, modality, truth, ai, outcome, latency_ms, at)
       VALUES (@hotkey, @challengeId, @modality, @truth, @ai, @outcome, @latencyMs, @at)
       ON CONFLICT (hotkey, challenge_id) DO NOTHING`,
    );
    const touch = this.db.prepare(
      `INSERT INTO miners (hotkey, uid, first_seen, last_seen) VALUES (?, NULL, ?, ?)
       ON CONFLICT(hotkey) DO UPDATE SET last_seen = MAX(miners.last_seen, excluded.last_seen)`,
    );
    this.db.transaction((rows: AnswerLog[]) => {
      for (const a of rows) {
        touch.run(a.hotkey, a.at, a.at);
        insert.run(a);
      }
    })(answers);
  }

  /** The newest `limit` answers of one miner and modality, oldest first (the scoring window). */
  window(hotkey: string, modality: Modality, limit: number): AnswerRecord[] {
    const rows = this.db
      .prepare(`SELECT truth, ai FROM answers WHERE hotkey = ? AND modality = ? ORDER BY id DESC LIMIT ?`)
      .all(hotkey, modality, limit) as Array<{ truth: 0 | 1; ai: number | null }>;
    return rows.reverse().map((r) => ({ modality, truth: r.truth, ai: r.ai }));
  }

  miners(): Array<{ hotkey: string; uid: number | null; firstSeen: number; lastSeen: number }> {
    return this.db
      .prepare('SELECT hotkey, uid, first_seen AS firstSeen, last_seen AS lastSeen FROM miners ORDER BY hotkey')
      .all() as Array<{ hotkey: string; uid: number | null; firstSeen: number; lastSeen: number }>;
  }

  recordWeights(w: WeightLog): number {
    return Number(
      this.db
        .prepare('INSERT INTO weights (at, weights, status, detail) VALUES (?, ?, ?, ?)')
        .run(w.at, JSON.stringify(w.weights), w.status, w.detail ?? null).lastInsertRowid,
    );
  }

  /** Changes the status (and detail) of a weight history row, e.g. a commit that was revealed. */
  updateWeightStatus(id: number, status: WeightLog['status'], detail?: string): void {
    this.db.prepare('UPDATE weights SET status = ?, detail = ? WHERE id = ?').run(status, detail ?? null, id);
  }

  /** Saves a commit before it is sent; returns its id. */
  savePendingCommit(c: Omit<PendingCommitRow, 'id'>): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO pending_commits (netuid, hotkey, hash, uids, weight_values, salt, version_key, commit_block,
             reveal_first, reveal_last, weights_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          c.netuid,
          c.hotkey,
          c.hash,
          JSON.stringify(c.uids),
          JSON.stringify(c.values),
          JSON.stringify(c.salt),
          c.versionKey,
          c.commitBlock,
          c.revealFirst,
          c.revealLast,
          c.weightsId,
          c.createdAt,
        ).lastInsertRowid,
    );
  }

  /** Records where the chain included a commit and its reveal window. */
  confirmCommit(id: number, commitBlock: number, reveal: { first: number; last: number }): void {
    this.db
      .prepare('UPDATE pending_commits SET commit_block = ?, reveal_first = ?, reveal_last = ? WHERE id = ?')
      .run(commitBlock, reveal.first, reveal.last, id);
  }

  deletePendingCommit(id: number): void {
    this.db.prepare('DELETE FROM pending_commits WHERE id = ?').run(id);
  }

  /** Commits of `hotkey` on `netuid` not revealed yet, oldest first. */
  pendingCommits(netuid: number, hotkey: string): PendingCommitRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, netuid, hotkey, hash, uids, weight_values AS "values", salt, version_key AS versionKey,
           commit_block AS commitBlock, reveal_first AS revealFirst, reveal_last AS revealLast, weights_id AS weightsId,
           created_at AS createdAt
         FROM pending_commits WHERE netuid = ? AND hotkey = ? ORDER BY id`,
      )
      .all(netuid, hotkey) as Array<
      Omit<PendingCommitRow, 'uids' | 'values' | 'salt'> & { uids: string; values: string; salt: string }
    >;
    return rows.map((r) => ({
      ...r,
      uids: JSON.parse(r.uids) as number[],
      values: JSON.parse(r.values) as number[],
      salt: JSON.parse(r.salt) as number[],
    }));
  }

  weightHistory(limit = 100): WeightLog[] {
    const rows = this.db.prepare('SELECT at, weights, status, detail FROM weights ORDER BY id DESC LIMIT ?').all(limit) as Array<{
      at: number;
      weights: string;
      status: WeightLog['status'];
      detail: string | null;
    }>;
    return rows
      .reverse()
      .map((r) => ({ at: r.at, weights: JSON.parse(r.weights), status: r.status, ...(r.detail ? { detail: r.detail } : {}) }));
  }

  counts(): { miners: number; answers: number; challenges: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      miners: one('SELECT COUNT(*) AS n FROM miners'),
      answers: one('SELECT COUNT(*) AS n FROM answers'),
      challenges: one('SELECT COUNT(*) AS n FROM challenges'),
    };
  }

  integrityOk(): boolean {
    return this.db.pragma('integrity_check', { simple: true }) === 'ok';
  }

  close(): void {
    this.db.close();
  }
}
