import { describe, expect, it } from 'vitest';
import { chainUpNote, formatHeartbeat, formatMissing, formatMs, formatSummary, preflight, StepError, Steps } from './steps.js';

const input = {
  dataset: '/d',
  chainSpec: '/s.json',
  chainSpecSha256: '',
  bundle: '/b',
  build: true,
  root: '/r',
};
const all = new Set([
  '/d/manifest.csv',
  '/s.json',
  '/b/manifest.json',
  '/b/model.onnx',
  '/r/node_modules/.package-lock.json',
  '/r/web-miner/vite.config.ts',
  '/r/extension/vite.config.ts',
]);
const probe = (files: Set<string>, path = true) => ({ exists: (p: string) => files.has(p), onPath: () => path });

describe('preflight', () => {
  it('passes when every piece is there', () => {
    expect(preflight(input, probe(all))).toEqual([]);
  });

  it('names each missing piece with its fix, all at once', () => {
    const missing = preflight(input, probe(new Set(['/b/manifest.json']), false));
    expect(missing.map((m) => m.piece)).toEqual([
      'dataset',
      'chain spec',
      'model bundle',
      'ffmpeg',
      'npm packages',
      'web-miner',
      'extension',
    ]);
    const text = formatMissing(missing);
    expect(text).toContain('7 pieces are missing');
    expect(text).toContain('no manifest.csv in /d');
    expect(text).toContain('VERACITY_DATASET');
    expect(text).toContain('bash scripts/setup.sh');
  });

  it('wants a sha256 for a spec URL, and no build inputs with --no-build', () => {
    const files = new Set([...all].filter((f) => !f.includes('vite.config')));
    const missing = preflight({ ...input, chainSpec: 'https://x/raw.json', build: false }, probe(files));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ piece: 'chain spec' });
    expect(preflight({ ...input, chainSpec: 'https://x/raw.json', chainSpecSha256: 'ab', build: false }, probe(files))).toEqual(
      [],
    );
  });
});

describe('steps', () => {
  it('numbers steps, reports notes and times, and names the step that failed', async () => {
    const lines: string[] = [];
    let t = 0;
    const steps = new Steps(
      2,
      (l) => lines.push(l),
      () => t,
    );
    const v = await steps.run(
      'chain',
      async (note) => {
        note('bootstrapping');
        t += 1500;
        return 7;
      },
      (n) => `netuid ${n}`,
    );
    expect(v).toBe(7);
    const failure = steps.run('validator', async () => {
      t += 20;
      throw new Error('port 8790 is already in use');
    });
    await expect(failure).rejects.toBeInstanceOf(StepError);
    await expect(failure).rejects.toThrow('validator failed: port 8790 is already in use');
    expect(lines).toEqual([
      '[1/2] chain …',
      '      bootstrapping',
      '[1/2] chain: netuid 7 (1.5 s)',
      '[2/2] validator …',
      '[2/2] validator: FAILED after 20 ms',
    ]);
  });

  it('formats durations for people', () => {
    expect(formatMs(12)).toBe('12 ms');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
  });

  it('prints every URL and the next steps', () => {
    const text = formatSummary({
      chain: { endpoint: 'ws://127.0.0.1:9944', netuid: 2, validatorUid: 0, validatorHotkey: '5G', resumed: false },
      validator: { ws: 'ws://127.0.0.1:8790/', status: 'http://127.0.0.1:8790/', metrics: 'http://127.0.0.1:8790/metrics' },
      nodeMiners: [
        {
          uri: '//Miner1',
          uid: 1,
          bundle: {
            id: 'veracity-detector',
            version: '1.7.0',
            sha256: '7c1e9be6'.padEnd(64, '0'),
            url: 'http://127.0.0.1:8792/detector/',
          },
        },
        {
          uri: '//Miner2',
          uid: 2,
          bundle: {
            id: 'veracity-fixture-tiny',
            version: '0.0.1',
            sha256: '6fe86a86'.padEnd(64, '0'),
            url: 'http://127.0.0.1:8792/tiny/',
          },
        },
      ],
      webMiner: { url: 'http://127.0.0.1:8791/', devUri: '//Miner3', devUid: 3 },
      extension: { dir: '/r/extension/dist' },
      stateDir: '/r/.veracity',
      tookMs: 61_000,
    });
    for (const part of [
      'Veracity local subnet is up (1 min 1 s)',
      'chain        ws://127.0.0.1:9944  (netuid 2, validator uid 0)',
      'status page  http://127.0.0.1:8790/',
      'metrics      http://127.0.0.1:8790/metrics',
      'web miner    http://127.0.0.1:8791/  (dev account //Miner3, uid 3)',
      'node miner   //Miner1 (uid 1) answering with veracity-detector 1.7.0, published at http://127.0.0.1:8792/detector/ (sha256 7c1e9be6…)',
      'node miner   //Miner2 (uid 2) answering with veracity-fixture-tiny 0.0.1, published at http://127.0.0.1:8792/tiny/',
      'npx veracity-bundle publish --bundle DIR --url URL --chain ws://127.0.0.1:9944 --netuid 2',
      'Load unpacked -> /r/extension/dist',
      'Ctrl-C stops everything',
    ])
      expect(text).toContain(part);
  });
});

describe('heartbeat after "up"', () => {
  const at = new Date(2026, 0, 1, 14, 5, 30).getTime();
  const beat = { at, rounds: 42, online: 2, errors: 0, lastError: null };

  it('names the round count, miners online, the weights as shares and the errors in one line', () => {
    const line = formatHeartbeat({
      ...beat,
      action: 'set',
      ok: true,
      detail: 'set at block 120',
      weights: [
        { uid: 2, hotkey: null, share: 0.3358 },
        { uid: 1, hotkey: null, share: 0.6642 },
      ],
    });
    expect(line).toBe(
      '14:05:30 round 42 · 2 miners online · weights set (set at block 120): uid 1 0.664, uid 2 0.336 · no errors',
    );
    expect(line).not.toContain('\n');
  });

  it('says why no weights went out, and counts errors with the last one', () => {
    const line = formatHeartbeat({
      ...beat,
      online: 1,
      action: 'failed',
      ok: false,
      detail: 'no miner has a positive score yet: nothing to set',
      weights: [],
      errors: 2,
      lastError: 'weights update failed',
    });
    expect(line).toBe(
      '14:05:30 round 42 · 1 miner online · weights not set (no miner has a positive score yet: nothing to set) · 2 errors (last: weights update failed)',
    );
    expect(formatHeartbeat({ ...beat, action: 'waiting', ok: false, detail: 'rate-limited', weights: [] })).toContain(
      'weights not due (rate-limited)',
    );
  });

  it('without a chain names miners by hotkey and shows at most six', () => {
    const weights = Array.from({ length: 8 }, (_, i) => ({ uid: null, hotkey: `5Hotkey${i}xxxxxxxx`, share: 1 / 8 }));
    const line = formatHeartbeat({ ...beat, ok: true, detail: 'recorded locally', weights });
    expect(line).toContain('weights computed (recorded locally): 5Hotke… 0.125');
    expect(line).toContain('+2 more');
  });
});

describe('chain step note', () => {
  it('a resumed chain is re-checked, not bootstrapped for 30 s', () => {
    expect(chainUpNote('ws://127.0.0.1:9944', 812, true)).toBe(
      'chain at ws://127.0.0.1:9944, block 812; checking the saved subnet',
    );
    expect(chainUpNote('ws://127.0.0.1:9944', 0, true)).not.toContain('bootstrapping');
    expect(chainUpNote('ws://127.0.0.1:9944', 0, false)).toContain('bootstrapping the subnet (≈30 s on a fresh chain)');
  });
});
