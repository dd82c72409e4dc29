/**
 * One `npm start` per state folder. A second start on the same `.veracity/` would open the same chain database and
 * fight the first for its ports, so it must stop before it starts anything and say what to do instead.
 *
 * The lock is a file created with O_EXCL holding the owner's pid. A lock whose pid no longer runs `npm start` (the
 * process was killed with SIGKILL, the machine rebooted, the pid was reused by something else) is stale and taken
 * over; the owner removes it on exit.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'start.lock';

export interface LockHolder {
  pid: number;
  /** ms since the epoch. */
  startedAt: number;
}

export type LockResult =
  | { ok: true; path: string; release: () => void; tookOverFrom: LockHolder | null }
  | { ok: false; path: string; holder: LockHolder };

export interface LockDeps {
  pid: number;
  now: () => number;
  /** True when `pid` is a running `npm start` (not merely a running process: pids get reused). */
  isStartProcess: (pid: number) => boolean;
}

/** Whether `pid` runs scripts/start.ts: alive (kill 0, EPERM counts) and, where /proc exists, running that script. */
export function isStartProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start.ts');
  } catch {
    return true; // no /proc (macOS): alive is the best we know
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return Number.isSafeInteger(h.pid) && (h.pid ?? 0) > 0 ? { pid: h.pid!, startedAt: Number(h.startedAt) || 0 } : null;
  } catch {
    return null; // unreadable or half-written: treated as stale
  }
}

/** Takes the lock in `stateDir` (which must exist), or names the running start that holds it. */
export function acquireStartLock(
  stateDir: string,
  deps: LockDeps = { pid: process.pid, now: Date.now, isStartProcess },
): LockResult {
  const path = join(stateDir, LOCK_FILE);
  let tookOverFrom: LockHolder | null = null;
  // Two tries: the second after removing a stale lock. Two starts taking over the same stale lock race on O_EXCL;
  // the loser sees the winner's live pid.
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(path);
      if (holder && holder.pid !== deps.pid && deps.isStartProcess(holder.pid)) return { ok: false, path, holder };
      tookOverFrom = holder;
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    const mine: LockHolder = { pid: deps.pid, startedAt: deps.now() };
    writeSync(fd, `${JSON.stringify(mine)}\n`);
    closeSync(fd);
    const release = () => {
      // Only our own lock: after a takeover by another start (we were presumed dead) the file is not ours.
      if (readHolder(path)?.pid === deps.pid) unlinkSync(path);
    };
    return { ok: true, path, release, tookOverFrom };
  }
  const holder = readHolder(path);
  return holder ? { ok: false, path, holder } : { ok: false, path, holder: { pid: 0, startedAt: 0 } };
}

/** What a second start says: who runs, where its URLs are, and the three ways forward. */
export function formatLockHeld(holder: LockHolder, stateDir: string, statusUrl: string | null): string {
  const since = holder.startedAt ? ` since ${new Date(holder.startedAt).toISOString().slice(11, 19)} UTC` : '';
  return [
    `npm start is already running for ${stateDir} (pid ${holder.pid}${since}); this one starts nothing.`,
    statusUrl
      ? `  - use it: its status page is ${statusUrl} (all its URLs are in ${join(stateDir, 'run.json')})`
      : `  - use it: it prints its URLs when it is up (and writes them to ${join(stateDir, 'run.json')})`,
    `  - or stop it first: Ctrl-C in its terminal, or \`kill ${holder.pid}\`, then run npm start again`,
    `  - or run a second subnet beside it: npm start -- --state-dir DIR --chain-port N --validator-port N --miner-port N`,
  ].join('\n');
}

/** The status page of the start that holds the lock, from the run.json it wrote when it was up (null before). */
export function runningStatusUrl(stateDir: string, pid: number): string | null {
  try {
    const run = JSON.parse(readFileSync(join(stateDir, 'run.json'), 'utf8')) as { pid?: number; validator?: { status?: string } };
    return run.pid === pid && typeof run.validator?.status === 'string' ? run.validator.status : null;
  } catch {
    return null;
  }
}
