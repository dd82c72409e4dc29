import { describe, expect, it } from 'vitest';
import { defaultStartOptions, parseStartOptions, START_HELP, StartOptionsError } from './options.js';

const ROOT = '/repo';

describe('npm start options', () => {
  it('defaults to the shared dataset and chain spec beside the checkout, state in .veracity', () => {
    const o = parseStartOptions([], {}, ROOT);
    expect(o).toEqual(defaultStartOptions(ROOT));
    expect(o).toMatchObject({
      dataset: '/shared/datasets',
      chainSpec: '/shared/chain/aura-dev-raw-293.json',
      bundle: '/repo/models/bundle',
      stateDir: '/repo/.veracity',
      validatorPort: 8790,
      build: true,
      nodeMiner: true,
    });
  });

  it('takes the environment, and flags over the environment; relative paths from where the user stands', () => {
    const o = parseStartOptions(
      ['--validator-port', '9000', '--dataset=data', '--no-build', '--fresh'],
      { VERACITY_PORT: '8000', VERACITY_DATASET: '/env/data', VERACITY_CHAIN_SPEC: 'spec.json', VERACITY_MINER_PORT: '0' },
      ROOT,
      '/home/me',
    );
    expect(o).toMatchObject({
      validatorPort: 9000,
      dataset: '/home/me/data',
      chainSpec: '/home/me/spec.json',
      minerPort: 0,
      build: false,
      fresh: true,
    });
  });

  it('keeps a URL spec as it is', () => {
    const o = parseStartOptions(['--chain-spec', 'https://example.org/raw.json', '--chain-spec-sha256', 'ab'], {}, ROOT);
    expect(o).toMatchObject({ chainSpec: 'https://example.org/raw.json', chainSpecSha256: 'ab' });
  });

  it('names every bad value at once', () => {
    let err: unknown;
    try {
      parseStartOptions(['--miners', 'x', '--bogus', '--chain-port', '70000', '--dataset'], { VERACITY_PORT: '-1' }, ROOT);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StartOptionsError);
    const msg = (err as Error).message;
    for (const part of [
      'VERACITY_PORT must be a whole number',
      '--miners must be a whole number',
      'unknown option --bogus',
      'chainPort must be between 0 and 65535',
      '--dataset needs a value',
    ])
      expect(msg).toContain(part);
    expect(msg).toContain('fix: run npm start -- --help');
    expect(msg).not.toContain('\n'); // one line
  });

  it('does not swallow the next flag as a value, and rejects values on switches', () => {
    expect(() => parseStartOptions(['--dataset', '--fresh'], {}, ROOT)).toThrow(/--dataset needs a value/);
    expect(() => parseStartOptions(['--fresh=yes'], {}, ROOT)).toThrow(/--fresh takes no value/);
    expect(() => parseStartOptions(['--no-dataset'], {}, ROOT)).toThrow(/--no-dataset is not an option/);
  });

  it('answers help, which names the log level setting', () => {
    expect(parseStartOptions(['--fresh', '-h'], {}, ROOT)).toBe('help');
    expect(START_HELP).toContain('VERACITY_LOG_LEVEL');
  });
});
