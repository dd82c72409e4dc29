import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  aggregateFrames,
  DEFAULT_THRESHOLD,
  FRAME_AGGREGATES,
  isModality,
  isThreshold,
  LABELS,
  MODALITIES,
  MODALITY_NAMES,
  meanProbabilities,
  modalityOfPath,
  operatingThreshold,
  pAI,
  perModality,
  type Probabilities,
} from './domain.js';

describe('P(AI) and frame aggregation', () => {
  it('P(AI) is synthetic + semisynthetic, in label order', () => {
    expect(LABELS).toEqual(['real', 'synthetic', 'semisynthetic']);
    expect(pAI([0.5, 0.3, 0.2])).toBeCloseTo(0.5, 12);
    expect(pAI([1, 0, 0])).toBe(0);
  });

  const frames: Probabilities[] = [
    [0.9, 0.1, 0],
    [0.2, 0.5, 0.3],
    [0.7, 0.2, 0.1],
  ];

  it('mean averages every label over the frames; no frames is all zeros', () => {
    const mean = aggregateFrames(frames, 'mean');
    expect(mean[0]).toBeCloseTo(0.6, 12);
    expect(mean[1]).toBeCloseTo(0.8 / 3, 12);
    expect(mean[2]).toBeCloseTo(0.4 / 3, 12);
    expect(aggregateFrames([], 'mean')).toEqual([0, 0, 0]);
    expect(
      meanProbabilities([
        [1, 0, 0],
        [0, 1, 0],
      ]),
    ).toEqual([0.5, 0.5, 0]);
  });

  it('max-ai takes the frame most confident it is AI, whole, and does not alias it', () => {
    const clip = aggregateFrames(frames, 'max-ai');
    expect(clip).toEqual([0.2, 0.5, 0.3]);
    clip[0] = 1;
    expect(frames[1]).toEqual([0.2, 0.5, 0.3]);
    expect(aggregateFrames([], 'max-ai')).toEqual([0, 0, 0]);
    expect(FRAME_AGGREGATES).toEqual(['mean', 'max-ai']);
  });
});

describe("a bundle's operating point", () => {
  it('is a number strictly between 0 and 1', () => {
    for (const ok of [0.0001, 0.5, 0.8593, 0.9999]) expect(isThreshold(ok)).toBe(true);
    for (const bad of [0, 1, -0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '0.8', null, undefined]) {
      expect(isThreshold(bad)).toBe(false);
    }
  });

  it("verdicts use the bundle's own threshold, else the default 0.5", () => {
    expect(DEFAULT_THRESHOLD).toBe(0.5);
    expect(operatingThreshold({ threshold: 0.8593 })).toBe(0.8593);
    expect(operatingThreshold({})).toBe(0.5);
    expect(operatingThreshold({ threshold: 1.2 })).toBe(0.5);
  });
});

describe('modalities', () => {
  it('one table: names, guards, per-modality records and default shares', () => {
    expect(MODALITY_NAMES).toEqual(['image', 'video']);
    expect(isModality('video')).toBe(true);
    expect(isModality('audio')).toBe(false);
    expect(isModality('toString')).toBe(false);
    expect(perModality((m) => MODALITIES[m].frames)).toEqual({ image: 'one', video: 'many' });
    const weights = MODALITY_NAMES.reduce((s, m) => s + MODALITIES[m].scoreWeight, 0);
    expect(weights).toBeCloseTo(1, 12);
    expect(MODALITY_NAMES.reduce((s, m) => s + MODALITIES[m].challengeShare, 0)).toBe(100);
  });

  it('a file name implies its modality; anything unknown is an image', () => {
    expect(modalityOfPath('a/b/clip.MP4')).toBe('video');
    expect(modalityOfPath('x.webm')).toBe('video');
    expect(modalityOfPath('x.jpg')).toBe('image');
    expect(modalityOfPath('mp4.png')).toBe('image');
  });
});

// The vocabulary is declared once, here. A second declaration drifts: LABELS was once repeated in protocol "so
// browser miners need not pull the model runtime", Modality three times, P(AI) four. This scans every workspace's
// TypeScript for a re-declaration and fails with the file and line, so the next one is caught in review.
describe('the domain vocabulary is declared only in protocol/src/domain.ts', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const home = fileURLToPath(new URL('./domain.ts', import.meta.url));
  const skip = new Set(['node_modules', 'dist', '.git', 'runs', 'test-results', 'playwright-report']);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      if (skip.has(e.name) || e.name.startsWith('.')) return [];
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path);
      return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
    });
  const files = walk(root).filter((f) => f !== self && f !== home);

  const RULES: Array<[string, RegExp]> = [
    ['a Modality type', /\b(type|interface|enum)\s+Modality\s*[=<{]/],
    ['a Label type', /\btype\s+Label\s*=/],
    ['a Probabilities type', /\btype\s+Probabilities\s*=/],
    ['a LABELS constant', /\bLABELS\s*(:[^=]+)?=/],
    ['the label list', /\[\s*'real',\s*'synthetic',\s*'semisynthetic'\s*\]/],
    ['an image/video union (use Modality)', /'image'\s*\|\s*'video'|'video'\s*\|\s*'image'/],
    ['a hand-written P(AI) (use pAI)', /(?<!\[0\]!?\s*\+\s*[\w.]*)\[1\]!?\s*\+\s*[\w.]*\[2\]/],
  ];

  it('scans the whole workspace', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.endsWith(join('extension', 'src', 'content', 'scanner.ts')))).toBe(true);
  });

  it.each(RULES)('no file declares %s', (_, pattern) => {
    const found: string[] = [];
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (pattern.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});
