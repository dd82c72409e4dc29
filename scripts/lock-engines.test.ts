import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TESTED_BELOW_DECLARED, engineConflicts, recordTestedRange, rootRange } from './lock-engines.js';

const root = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));

describe('one Node engine statement', () => {
  it('no locked package excludes the Node version the root promises (npm ci stays free of EBADENGINE)', () => {
    const { minimum } = rootRange(root);
    expect(engineConflicts(lock, minimum)).toEqual([]);
  });

  it('finds a conflict and records the tested range only for the listed packages', () => {
    const sample = {
      packages: {
        '': {},
        'node_modules/@acala-network/chopsticks': { version: '1.5.1', engines: { node: '>=v22' } },
        'node_modules/other': { version: '1.0.0', engines: { node: '>=22' } },
        'node_modules/fine': { version: '1.0.0', engines: { node: '^20.19.0 || >=22' } },
      },
    };
    expect(engineConflicts(sample, '20.19.0').map((c) => c.name)).toEqual(['@acala-network/chopsticks', 'other']);
    expect(recordTestedRange(sample, '>=20.19')).toEqual(['@acala-network/chopsticks']);
    // a package not listed keeps its declaration and still fails the check
    expect(engineConflicts(sample, '20.19.0').map((c) => c.name)).toEqual(['other']);
  });

  it('the setup script and README state the same minimum as package.json', () => {
    const { minimum } = rootRange(root);
    const [major, minor] = minimum.split('.');
    const setup = readFileSync(new URL('./setup.sh', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(setup).toContain(`>= ${major}.${minor}`);
    expect(readme).toContain(`Node.js >= ${major}.${minor}`);
    expect(Object.keys(TESTED_BELOW_DECLARED).every((n) => lock.packages[`node_modules/${n}`])).toBe(true);
  });
});
