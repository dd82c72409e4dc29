import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, HELP, redact, resolveConfig } from './config.js';

const noFile = () => {
  throw new Error('ENOENT');
};

describe('config', () => {
  it('layers defaults < file < env < flags', () => {
    const c = resolveConfig(
      ['--port', '9001', '--config', 'v.json'],
      { VERACITY_PORT: '9000', VERACITY_SAMPLE_SIZE: '7', VERACITY_HOTKEY_URI: '//Alice' },
      () => JSON.stringify({ port: 8000, sampleSize: 3, db: '/var/lib/v.db' }),
    );
    expect(c).not.toBe('help');
    if (c === 'help') return;
    expect(c.port).toBe(9001);
    expect(c.sampleSize).toBe(7);
    expect(c.db).toBe('/var/lib/v.db');
    expect(c.timeoutMs).toBe(DEFAULTS.timeoutMs);
    expect(c.hotkeyUri).toBe('//Alice');
    expect(redact(c).hotkeyUri).toBe('***');
  });

  it('takes the video share from a flag or the environment, as a percentage', () => {
    const fromEnv = resolveConfig([], { VERACITY_VIDEO_SHARE: '0' }, noFile);
    expect(fromEnv !== 'help' && fromEnv.videoShare).toBe(0);
    const fromFlag = resolveConfig(['--video-share', '35'], { VERACITY_VIDEO_SHARE: '0' }, noFile);
    expect(fromFlag !== 'help' && fromFlag.videoShare).toBe(35);
    expect(DEFAULTS.videoShare).toBe(20);
    expect(() => resolveConfig(['--video-share', '101'], {}, noFile)).toThrow(/videoShare is a percentage/);
  });

  it('takes the unpublished share as a fraction from 0 to 1 (default 1: unpublished miners keep earning)', () => {
    expect(DEFAULTS.unpublishedShare).toBe(1);
    const c = resolveConfig(['--unpublished-share', '0.25'], { VERACITY_UNPUBLISHED_SHARE: '0' }, noFile);
    expect(c !== 'help' && c.unpublishedShare).toBe(0.25);
    const fromFile = resolveConfig([], { VERACITY_CONFIG: 'v.json' }, () => JSON.stringify({ unpublishedShare: 0 }));
    expect(fromFile !== 'help' && fromFile.unpublishedShare).toBe(0);
    for (const bad of ['1.5', '--unpublished-share=-0.1', 'half', ''])
      expect(() => resolveConfig(bad.startsWith('--') ? [bad] : ['--unpublished-share', bad], {}, noFile), bad).toThrow(
        /unpublishedShare must be a number from 0 to 1/,
      );
  });

  it('takes the generated-challenge settings from flags, env and file, off by default', () => {
    expect([DEFAULTS.taeModels, DEFAULTS.realPool]).toEqual(['', '']);
    const c = resolveConfig(
      ['--tae-models', '/srv/tae', '--generated-synthetic', '80', '--config', 'v.json'],
      { VERACITY_REAL_POOL: '/srv/photos' },
      () => JSON.stringify({ generatedReal: 30, generatedAhead: 64 }),
    );
    expect(
      c !== 'help' && [
        c.taeModels,
        c.realPool,
        c.generatedReal,
        c.generatedSynthetic,
        c.generatedSemisynthetic,
        c.generatedAhead,
      ],
    ).toEqual(['/srv/tae', '/srv/photos', 30, 80, 50, 64]);
    expect(() => resolveConfig(['--tae-models', 'x', '--generated-real', '120'], {}, noFile)).toThrow(
      /generatedReal is a percentage/,
    );
    expect(() => resolveConfig(['--real-pool', '/srv/photos'], {}, noFile)).toThrow(/realPool needs taeModels/);
    expect(() => resolveConfig(['--tae-models', 'x', '--generated-ahead', '0'], {}, noFile)).toThrow(
      /generatedAhead must be at least 1/,
    );
  });

  it('takes the generated-video settings: on at 50 % with TAE models, from a private clip folder when given', () => {
    expect([DEFAULTS.realClips, DEFAULTS.generatedVideo, DEFAULTS.generatedVideoAhead]).toEqual(['', 50, 6]);
    const c = resolveConfig(
      ['--tae-models', '/srv/tae', '--real-clips', '/srv/clips', '--generated-video-ahead', '4'],
      { VERACITY_GENERATED_VIDEO: '30' },
      noFile,
    );
    expect(c !== 'help' && [c.realClips, c.generatedVideo, c.generatedVideoAhead]).toEqual(['/srv/clips', 30, 4]);
    expect(() => resolveConfig(['--real-clips', '/srv/clips'], {}, noFile)).toThrow(/realClips needs taeModels/);
    expect(() => resolveConfig(['--tae-models', 'x', '--generated-video', '101'], {}, noFile)).toThrow(
      /generatedVideo is a percentage/,
    );
    expect(() => resolveConfig(['--tae-models', 'x', '--generated-video-ahead', '0'], {}, noFile)).toThrow(
      /generatedVideoAhead must be at least 1/,
    );
    // Off: no clips needed ahead.
    expect(resolveConfig(['--tae-models', 'x', '--generated-video', '0', '--generated-video-ahead', '0'], {}, noFile)).not.toBe(
      'help',
    );
    expect(HELP).toMatch(/--real-clips DIR .*\n.*VERACITY_REAL_CLIPS, default ""/);
  });

  it('takes the reveal window and the copy policy, and refuses values that make no sense', () => {
    const c = resolveConfig(['--reveal-every-rounds', '4'], { VERACITY_COPY_POLICY: 'share' }, noFile);
    expect(c !== 'help' && [c.revealEveryRounds, c.copyPolicy]).toEqual([4, 'share']);
    expect([DEFAULTS.revealEveryRounds, DEFAULTS.copyPolicy]).toEqual([10, 'flag']);
    expect(() => resolveConfig(['--reveal-every-rounds', '0'], {}, noFile)).toThrow(/revealEveryRounds must be at least 1/);
    expect(() => resolveConfig(['--copy-policy', 'ban'], {}, noFile)).toThrow(/copyPolicy must be flag or share, got ban/);
  });

  it('names every problem at once', () => {
    try {
      resolveConfig(['--port', 'abc', '--timeout-ms', '5', '--chain', 'http://x'], {}, noFile);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/port must be a non-negative integer/);
      expect(problems).toMatch(/timeoutMs must be at least 100/);
      expect(problems).toMatch(/ws:\/\//);
      expect(problems).toMatch(/needs a hotkey/);
    }
  });

  it('refuses secrets in config files and unknown keys', () => {
    expect(() =>
      resolveConfig(['--config', 'v.json'], {}, () => JSON.stringify({ hotkeyUri: '//Alice', colour: 'red' })),
    ).toThrow(/secret[\s\S]*unknown key "colour"/);
    expect(() => resolveConfig(['--config', 'missing.json'], {}, noFile)).toThrow(/cannot read config file/);
  });

  it('rejects unknown flags and offers help', () => {
    expect(() => resolveConfig(['--hotkey-uri', '//Alice'], {}, noFile)).toThrow();
    expect(resolveConfig(['--help'], {}, noFile)).toBe('help');
  });
});
