import Database from 'better-sqlite3';
import type { AnswerRecord, Modality } from './scoring.js';

/**
 * Validator state in one SQLite file: miners, every answer (the scoring windows are the newest rows), the
 * challenge log and the weight history. WAL plus one transaction per write means a crash at any instant leaves the
 * last committed state intact: a restart resumes with no scores lost.
 */
export type Outcome = 'ok' | 'timeout' | 'invalid';

export interface ChallengeLog {
  id: string;
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

const SCHEMA_VERSION = 1;

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
    if (version === SCHEMA_VERSION) return;
    this.db.exec(`
      BEGIN;
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
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
      COMMIT;
    `);
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

  logChallenge(c: ChallengeLog): void {
    this.db
      .prepare(
        `INSERT INTO challenges (id, label, modality, level, source_path, source_group, created_at, deadline)
         VALUES (@id, @label, @modality, @level, @sourcePath, @sourceGroup, @createdAt, @deadline)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(c);
  }

  /** Records a round's answers atomically; a second answer from one miner to one challenge is ignored. */
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
