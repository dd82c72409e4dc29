/**
 * sources-v2.csv is data, but a broken row would only show when someone with internet rebuilds it: these checks keep
 * it rebuildable (every row parses, has a pinned raw.githubusercontent URL that matches its source_repo, a sha256
 * and a licence), disjoint from the hidden set's sources, and mergeable with ../shared/datasets (no group clash).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDatasetManifest } from '../src/dataset/dataset.js';
import { parseSources } from '../src/dataset/sources.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SHARED = join(HERE, '..', '..', '..', 'shared');
const sources = parseSources(readFileSync(join(HERE, 'sources-v2.csv'), 'utf8'));
const RAW = /^https:\/\/raw\.githubusercontent\.com\/([^/]+\/[^/]+)\/([0-9a-f]{40})\/(.+)$/;

describe('models/datasets/sources-v2.csv', () => {
  it('parses without rejected rows, every row with a sha256, a licence and a generator', () => {
    expect(sources.rejected).toEqual([]);
    expect(sources.rows.length).toBeGreaterThan(3000);
    for (const row of sources.rows) {
      expect(row.sha256, row.path).toMatch(/^[0-9a-f]{64}$/);
      expect(row.license?.trim(), row.path).toBeTruthy();
      expect(row.generator?.trim(), row.path).toBeTruthy();
    }
    expect(new Set(sources.rows.map((r) => r.path)).size).toBe(sources.rows.length);
  });

  it('points every row at the raw file of its source_repo at a pinned commit', () => {
    for (const row of sources.rows) {
      const m = RAW.exec(row.url);
      expect(m, row.url).not.toBeNull();
      expect(`${m![1]}@${m![2]}`, row.path).toBe(row.source_repo);
      expect(decodeURIComponent(m![3]!), row.path).not.toMatch(/^\/|(^|\/)\.\.(\/|$)/);
    }
  });

  it('uses no source listed in ../shared/holdout-exclude', () => {
    const excluded = new Set(
      readFileSync(join(SHARED, 'holdout-exclude', 'sources.sha256'), 'utf8')
        .split('\n')
        .map((l) => l.trim().toLowerCase())
        .filter(Boolean),
    );
    const repos = new Set(sources.rows.map((r) => r.source_repo!.split('@')[0]!.toLowerCase()));
    for (const repo of repos) expect(excluded.has(createHash('sha256').update(repo).digest('hex')), repo).toBe(false);
  });

  it('has at least 3,000 real photos from 30 repositories and 30 AI groups, none named like a ../shared group', () => {
    const real = sources.rows.filter((r) => r.label === 'real');
    const ai = sources.rows.filter((r) => r.label !== 'real');
    expect(real.length).toBeGreaterThanOrEqual(3000);
    expect(new Set(real.map((r) => r.source_repo!.split('@')[0])).size).toBeGreaterThanOrEqual(30);
    expect(new Set(ai.map((r) => r.group)).size).toBeGreaterThanOrEqual(30);
    // A group in both folders would merge two sources in per-group metrics (data.py refuses it).
    const shared = parseDatasetManifest(readFileSync(join(SHARED, 'datasets', 'manifest.csv'), 'utf8'));
    const sharedGroups = new Set(shared.rows.map((r) => r.group));
    for (const group of new Set(sources.rows.map((r) => r.group))) expect(sharedGroups.has(group), group).toBe(false);
  });
});
