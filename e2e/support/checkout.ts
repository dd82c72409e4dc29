/**
 * A clean checkout of this working tree in a temporary folder: the files git would give a fresh clone (tracked, plus
 * untracked-but-not-ignored while developing), none of the build outputs or state. Installed packages are linked in
 * from this checkout's node_modules (a fresh `npm ci` is minutes of compiling that the set-up script already proved),
 * except the workspace packages, which point at the copy's own folders so the copy runs its own code.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Checkout {
  dir: string;
  remove(): void;
}

export function cleanCheckout(): Checkout {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-checkout-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT })
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(join(REPO_ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(REPO_ROOT, f), join(dir, f));
  }
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '@veracity'), { recursive: true });
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (name === '@veracity') continue;
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(nm, name));
  }
  for (const ws of pkg.workspaces) {
    const name = (JSON.parse(readFileSync(join(dir, ws, 'package.json'), 'utf8')) as { name: string }).name;
    symlinkSync(join(dir, ws), join(nm, name));
    if (existsSync(join(REPO_ROOT, ws, 'node_modules')))
      symlinkSync(join(REPO_ROOT, ws, 'node_modules'), join(dir, ws, 'node_modules'));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Processes (other than zombies) whose working directory is inside `dir`: what a clean stop must leave none of. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (!cwd.startsWith(dir)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
