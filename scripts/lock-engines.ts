/**
 * Keeps one engine statement true across the install: the root's `engines.node` (what this project is tested on)
 * and the ranges package-lock.json records per package, which is what `npm ci` checks and warns about (EBADENGINE).
 *
 * `@acala-network/chopsticks` (the local chain) declares Node >= 22 from 1.2 on, yet runs on Node 20.19+, where CI
 * runs its chain tests and `npm start`; 1.1.0, the last to declare Node 20, cannot back a resumable chain
 * (docs/running-locally.md). So for the packages in TESTED_BELOW_DECLARED the lockfile records the range we test
 * instead of the declaration, and every other package must admit the root's minimum Node as declared.
 *
 *   npx tsx scripts/lock-engines.ts           rewrite package-lock.json (after an `npm install` re-adds the ranges)
 *   npx tsx scripts/lock-engines.ts --check   exit 1 and name every package whose locked range excludes the minimum
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

/** Packages whose declared Node range is narrower than what they are tested on here, and why. */
export const TESTED_BELOW_DECLARED: Readonly<Record<string, string>> = {
  '@acala-network/chopsticks': 'declares >=22; the chain tests and npm start run it on Node 20.19+',
  '@acala-network/chopsticks-core': 'part of chopsticks (same release and tests)',
  '@acala-network/chopsticks-db': 'part of chopsticks (same release and tests)',
};

interface Lock {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
}

export interface EngineConflict {
  name: string;
  version: string;
  range: string;
}

function nameOf(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Locked packages whose Node range does not admit `minimum` (the root's lowest supported version). */
export function engineConflicts(lock: Lock, minimum: string): EngineConflict[] {
  const out: EngineConflict[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    if (!path) continue; // the root itself
    const range = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined;
    if (!range || semver.satisfies(minimum, range, { includePrerelease: true })) continue;
    out.push({ name: nameOf(path), version: pkg.version ?? '?', range });
  }
  return out;
}

/** Records the root's range for the TESTED_BELOW_DECLARED packages; returns the names it changed. */
export function recordTestedRange(lock: Lock, rootRange: string): string[] {
  const changed: string[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    if (!path || !(nameOf(path) in TESTED_BELOW_DECLARED)) continue;
    const current = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined;
    if (current === rootRange) continue;
    pkg.engines = { node: rootRange };
    changed.push(nameOf(path));
  }
  return changed;
}

export function rootRange(rootPackageJson: { engines?: { node?: string } }): { range: string; minimum: string } {
  const range = rootPackageJson.engines?.node;
  const min = range ? semver.minVersion(range) : null;
  if (!range || !min) throw new Error('package.json: engines.node must be a valid range');
  return { range, minimum: min.version };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const lockFile = join(root, 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;
  const { range, minimum } = rootRange(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
  if (!process.argv.includes('--check')) {
    const changed = recordTestedRange(lock, range);
    if (changed.length) writeFileSync(lockFile, JSON.stringify(lock, null, 2) + '\n');
    console.log(changed.length ? `recorded node ${range} for ${changed.join(', ')}` : 'package-lock.json: nothing to change');
  }
  const conflicts = engineConflicts(lock, minimum);
  for (const c of conflicts) console.error(`${c.name}@${c.version} declares node ${c.range}, root promises ${range}`);
  process.exit(conflicts.length ? 1 : 0);
}
