import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStartLock, formatLockHeld, isStartProcess, LOCK_FILE, runningStatusUrl } from './lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'veracity-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const deps = (pid: number, running: number[] = []) => ({
  pid,
  now: () => 1_700_000_000_000,
  isStartProcess: (p: number) => running.includes(p),
});

/** A real process whose command line names start.ts, as a running `npm start` does; resolves to [pid, stop]. */
async function fakeStart(): Promise<[number, () => Promise<void>]> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'scripts/start.ts'], { stdio: 'ignore' });
  await new Promise((ok) => child.once('spawn', ok));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  return [child.pid!, async () => void (child.kill('SIGKILL'), await exited)];
}

describe('npm start lock', () => {
  it('the first start takes the lock and its release removes the file', () => {
    const lock = acquireStartLock(dir, deps(100));
    expect(lock.ok).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual({ pid: 100, startedAt: 1_700_000_000_000 });
    if (lock.ok) lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a second start while the first runs is refused with the holder named', () => {
    const first = acquireStartLock(dir, deps(100));
    const second = acquireStartLock(dir, deps(200, [100]));
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, holder: { pid: 100 } });
    // The refused one leaves the holder's lock alone.
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(100);
  });

  it('a stale lock (its pid no longer runs npm start) is taken over', () => {
    acquireStartLock(dir, deps(100));
    const second = acquireStartLock(dir, deps(200, []));
    expect(second).toMatchObject({ ok: true, tookOverFrom: { pid: 100 } });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(200);
  });

  it('a garbled lock file is stale, not fatal', () => {
    writeFileSync(join(dir, LOCK_FILE), '{"pid":');
    expect(acquireStartLock(dir, deps(200, [100]))).toMatchObject({ ok: true, tookOverFrom: null });
  });

  it('release leaves a lock that another start has taken over', () => {
    const first = acquireStartLock(dir, deps(100));
    acquireStartLock(dir, deps(200, [])); // presumed dead, taken over
    if (first.ok) first.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(200);
  });

  it('tells a live npm start from a dead pid with real processes', async () => {
    const [pid, stop] = await fakeStart();
    try {
      expect(isStartProcess(pid)).toBe(true);
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, startedAt: Date.now() }));
      expect(acquireStartLock(dir)).toMatchObject({ ok: false, holder: { pid } });
    } finally {
      await stop();
    }
    expect(isStartProcess(pid)).toBe(false);
    const lock = acquireStartLock(dir);
    expect(lock).toMatchObject({ ok: true, tookOverFrom: { pid } });
    if (lock.ok) lock.release();
    // This test runner is alive but is not npm start: a reused pid does not hold the lock.
    expect(isStartProcess(process.pid)).toBe(process.argv.join(' ').includes('start.ts'));
  });

  it('says what to do: use it (its status page once up), stop it, or run a second one elsewhere', () => {
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ pid: 100, validator: { status: 'http://127.0.0.1:8790/' } }));
    expect(runningStatusUrl(dir, 100)).toBe('http://127.0.0.1:8790/');
    expect(runningStatusUrl(dir, 101)).toBeNull(); // an older run's file
    const text = formatLockHeld({ pid: 100, startedAt: Date.UTC(2026, 0, 1, 13, 5, 0) }, '.veracity', 'http://127.0.0.1:8790/');
    expect(text).toContain('npm start is already running for .veracity (pid 100 since 13:05:00 UTC)');
    expect(text).toContain('status page is http://127.0.0.1:8790/');
    expect(text).toContain('`kill 100`');
    expect(text).toContain('--state-dir DIR');
    expect(formatLockHeld({ pid: 100, startedAt: 0 }, '.veracity', null)).toContain('prints its URLs when it is up');
  });
});
