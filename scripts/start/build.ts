/**
 * Builds a workspace package (`npm run build -w PKG`) only when its inputs changed since the last build, so a
 * second `npm start` does not spend a minute rebuilding the same extension. Children are tracked so Ctrl-C during
 * a build leaves nothing running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SKIP = new Set(['node_modules', 'dist', '.harness-dist', 'test-results', '__pycache__', 'runs']);

/** A hash of every input file's path, size and mtime: cheap, and changes whenever a build could. */
export function fingerprint(root: string, inputs: string[]): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) if (!SKIP.has(name)) walk(join(p, name));
    } else {
      h.update(`${relative(root, p)}\0${st.size}\0${Math.floor(st.mtimeMs)}\n`);
    }
  };
  for (const i of inputs) walk(join(root, i));
  return h.digest('hex');
}

const STAMP = '.veracity-build.json';

export const children = new Set<ChildProcess>();

/** Kills every build still running (its whole process group: npm -> sh -> vite). */
export function killChildren(): void {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

export interface BuildResult {
  dir: string;
  built: boolean;
  ms: number;
}

export async function buildIfStale(
  root: string,
  pkg: string,
  inputs: string[],
  note: (text: string) => void,
): Promise<BuildResult> {
  const t0 = Date.now();
  const dist = join(root, pkg, 'dist');
  const print = fingerprint(root, [pkg, ...inputs]);
  try {
    const stamp = JSON.parse(readFileSync(join(dist, STAMP), 'utf8')) as { fingerprint?: string };
    if (stamp.fingerprint === print) {
      note(`${pkg}/dist is up to date`);
      return { dir: dist, built: false, ms: Date.now() - t0 };
    }
  } catch {
    // no stamp: build
  }
  note(`building ${pkg} (vite) …`);
  const tail: string[] = [];
  await new Promise<void>((ok, fail) => {
    const child = spawn('npm', ['run', 'build', '-w', pkg, '--silent'], {
      cwd: root,
      detached: true, // own process group, so Ctrl-C can take npm, sh and vite down together
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const keep = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line.trim()) tail.push(line);
      tail.splice(0, Math.max(0, tail.length - 30));
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (code === 0) ok();
      else fail(new Error(`npm run build -w ${pkg} exited with ${signal ?? code}:\n${tail.join('\n')}`));
    });
  });
  writeFileSync(join(dist, STAMP), JSON.stringify({ fingerprint: print, at: new Date().toISOString() }));
  return { dir: dist, built: true, ms: Date.now() - t0 };
}
