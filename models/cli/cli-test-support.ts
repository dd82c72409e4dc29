// Spawning a CLI as a user does and checking its usage-error contract (models/cli/usage.ts), for the CLI tests of
// every package.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (e, stdout, stderr) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 99) : 0, stdout, stderr }),
    );
  });
}

/** Exit 2, exactly one line on stderr with the program's name, the problem and "fix:", nothing on stdout. */
export function expectUsage(r: Ran, program: string, problem: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^${program}: `));
  expect(r.stderr).toMatch(problem);
  expect(r.stderr).toMatch(/ — fix: \S/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}
