import { describe, expect, it } from 'vitest';
import { BUILT_IN, resolveConfig } from './config.js';

describe('resolveConfig', () => {
  it('uses the built-in defaults without config.json (404) or query', () => {
    expect(resolveConfig(null, '')).toEqual({ config: BUILT_IN, problems: [] });
  });

  it('layers defaults < config.json < query parameters', () => {
    const { config, problems } = resolveConfig(
      { validators: ['ws://v1:8790/'], chain: 'ws://c:9944', netuid: 5, devAccount: '//Miner2' },
      '?validator=ws://a/&validator=wss://b.example/miner&netuid=9&backend=wasm&rate=30',
    );
    expect(problems).toEqual([]);
    expect(config).toEqual({
      ...BUILT_IN,
      validators: ['ws://a/', 'wss://b.example/miner'],
      chain: 'ws://c:9944',
      netuid: 9,
      backend: 'wasm',
      maxPerMinute: 30,
      devAccount: '//Miner2',
    });
  });

  it('names every bad value and keeps the previous layer for it', () => {
    const { config, problems } = resolveConfig(
      { validators: ['http://x', 'ws://ok/'], netuid: 70000, colour: 'red' },
      '?chain=localhost&backend=cuda&rate=-1',
    );
    expect(config.validators).toEqual(['ws://ok/']);
    expect(config.netuid).toBe(BUILT_IN.netuid);
    expect(config.chain).toBe(BUILT_IN.chain);
    expect(config.backend).toBe('auto');
    expect(problems).toEqual([
      'config.json: validator "http://x" is not a ws:// or wss:// URL',
      'config.json: netuid 70000 is not an integer in 0..65535',
      'config.json: unknown key "colour" (ignored)',
      'URL: chain "localhost" is not a ws:// or wss:// URL',
      'URL: backend "cuda" is not auto, webgpu or wasm',
      'URL: maxPerMinute "-1" is not a non-negative integer',
    ]);
  });

  it('refuses a config.json that is not an object', () => {
    expect(resolveConfig([1, 2], '').problems).toEqual(['config.json: not a JSON object (ignored)']);
  });

  it('never takes a secret from the URL', () => {
    expect(resolveConfig(null, '?devAccount=//Alice&dev=//Alice').config.devAccount).toBeNull();
  });
});
