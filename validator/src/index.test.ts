import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The validator's public face is its package.json exports. A relative import of one of its files from elsewhere
// pins that file's path and name (23 such imports once made every move inside validator/src a repo-wide edit).
describe('the validator is used through its entry points', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const skip = new Set(['node_modules', 'dist', 'validator', '.git', 'runs', 'test-results', 'playwright-report']);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      if (skip.has(e.name) || e.name.startsWith('.')) return [];
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path);
      return /\.(ts|tsx|mts|mjs)$/.test(e.name) ? [path] : [];
    });

  it('no file outside validator/ imports a validator source file by path', () => {
    const files = walk(root);
    expect(files.some((f) => f.endsWith(join('scripts', 'start.ts')))).toBe(true);
    const offenders = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/['"](\.\.\/)+validator\/(src|bin)\//.test(line) ? [`${relative(root, f)}:${i + 1}`] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it('every entry point loads and exports what its README row promises', async () => {
    const main = await import('@veracity/validator');
    for (const name of [
      'runValidator',
      'resolveConfig',
      'createLogger',
      'ValidatorServer',
      'Store',
      'WeightHistory',
      'minerStandings',
    ])
      expect(typeof (main as Record<string, unknown>)[name], name).toBe('function');
    const chain = await import('@veracity/validator/chain');
    for (const name of ['ChainSync', 'startLocalnet', 'readWeights', 'registrationOf'])
      expect(typeof (chain as Record<string, unknown>)[name], name).toBe('function');
    const challenges = await import('@veracity/validator/challenges');
    expect(typeof challenges.ChallengeDataset).toBe('function');
    expect(typeof (await import('@veracity/validator/miner')).NodeMiner).toBe('function');
    expect(typeof (await import('@veracity/validator/test-support')).startSubnet).toBe('function');
  });
});
