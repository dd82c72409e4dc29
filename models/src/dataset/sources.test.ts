import { describe, expect, it } from 'vitest';
import { parseCsv, parseDatasetManifest } from './dataset.js';
import {
  contentRangeStart,
  DEFAULT_RETRY,
  formatBytes,
  formatDuration,
  formatProgress,
  isRetryableStatus,
  parseRetryAfter,
  parseSources,
  planRow,
  retryDelayMs,
  selectRows,
  sourceKind,
  toCsv,
  unsafePathReason,
} from './sources.js';
import { isVeracityError } from '../core/errors.js';

const A = 'a'.repeat(64);
const B = 'B'.repeat(64);
const HEADER = 'path,label,modality,group,source_repo,generator,license,sha256,notes,url';

describe('sources file', () => {
  it('keeps good rows, lower-cases hashes and drops url from the manifest columns', () => {
    const { columns, rows, rejected } = parseSources(
      [
        HEADER,
        `image/g1/a.jpg,real,image,g1,org/repo,camera,CC0,${A},"pair=b, cropped",https://example.org/a.jpg`,
        `image/g2/b.jpg,synthetic,image,,,,,${B},,image/g2/b.jpg`,
      ].join('\r\n'),
    );
    expect(rejected).toEqual([]);
    expect(columns).toEqual(['path', 'label', 'modality', 'group', 'source_repo', 'generator', 'license', 'sha256', 'notes']);
    expect(rows.map((r) => [r.path, r.group, r.sha256, r.url])).toEqual([
      ['image/g1/a.jpg', 'g1', A, 'https://example.org/a.jpg'],
      ['image/g2/b.jpg', 'ungrouped', B.toLowerCase(), 'image/g2/b.jpg'],
    ]);
    expect(rows[0]?.notes).toBe('pair=b, cropped');
  });

  it('rejects each bad row with its line and reason', () => {
    const bad = [
      [`../up.jpg,real,image,g,,,,${A},,https://h/x`, 'climbs out'],
      [`/etc/passwd,real,image,g,,,,${A},,https://h/x`, 'absolute'],
      [`C:/x.jpg,real,image,g,,,,${A},,https://h/x`, 'drive letter'],
      [`a\\b.jpg,real,image,g,,,,${A},,https://h/x`, 'backslash'],
      [`a//b.jpg,real,image,g,,,,${A},,https://h/x`, 'empty'],
      [`a.jpg.part,real,image,g,,,,${A},,https://h/x`, '.part'],
      [`manifest.csv,real,image,g,,,,${A},,https://h/x`, 'manifest'],
      [`x.jpg,fake,image,g,,,,${A},,https://h/x`, 'unknown label'],
      [`x.jpg,real,audio,g,,,,${A},,https://h/x`, 'unknown modality'],
      [`x.jpg,real,image,g,,,,abc,,https://h/x`, '64 hex'],
      [`x.jpg,real,image,g,,,,${A},,`, 'no url'],
      [`x.jpg,real,image,g,,,,${A},,ftp://h/x`, 'neither http'],
      [`x.jpg,real,image,g,,,,${A},,../outside.jpg`, 'mirror path'],
      [`x.jpg,real,image,g,,,,${A},,http://[bad`, 'not a valid URL'],
    ] as const;
    const { rows, rejected } = parseSources([HEADER, `ok.jpg,real,image,g,,,,${A},,ok.jpg`, ...bad.map((b) => b[0])].join('\n'));
    expect(rows.map((r) => r.path)).toEqual(['ok.jpg']);
    expect(rejected.map((r) => r.line)).toEqual(bad.map((_, i) => i + 3));
    bad.forEach(([, why], i) => expect(rejected[i]?.reason).toContain(why));
  });

  it('rejects a path listed twice (the second one)', () => {
    const { rows, rejected } = parseSources(
      [HEADER, `a.jpg,real,image,g,,,,${A},,a.jpg`, `a.jpg,real,image,g,,,,${B},,b.jpg`].join('\n'),
    );
    expect(rows).toHaveLength(1);
    expect(rejected).toEqual([{ line: 3, path: 'a.jpg', reason: 'path "a.jpg" is listed twice' }]);
  });

  it('throws E_SOURCES_INVALID for a file without the required columns', () => {
    for (const text of ['', 'path,label,modality,group,url\nx,real,image,g,u', 'path,label,modality,group,sha256\n']) {
      try {
        parseSources(text);
        expect.unreachable();
      } catch (e) {
        expect(isVeracityError(e, 'E_SOURCES_INVALID')).toBe(true);
      }
    }
    expect(() => parseSources('path,path,label,modality,group,sha256,url\n')).toThrow(/repeats the column\(s\) path/);
  });

  it('uses path as the mirror url for a plain manifest (--from-manifest)', () => {
    const { rows, columns } = parseSources(`path,label,modality,group,sha256\nimage/a.jpg,real,image,g,${A}\n`, {
      urlFromPath: true,
    });
    expect(rows[0]?.url).toBe('image/a.jpg');
    expect(sourceKind(rows[0]!.url)).toBe('mirror');
    expect(columns).toEqual(['path', 'label', 'modality', 'group', 'sha256']);
  });

  it('knows unsafe paths from safe ones', () => {
    expect(unsafePathReason('image/faces-ffhq/00000.jpg')).toBeUndefined();
    expect(unsafePathReason('a/../b')).toMatch(/\.\./);
    expect(unsafePathReason('a/./b')).toMatch(/"\."/);
    expect(unsafePathReason('a\u0000b')).toMatch(/control/);
    expect(unsafePathReason('..manifest')).toBeUndefined();
  });
});

describe('selection', () => {
  const rows = ['g1', 'g1', 'g2', 'g1', 'g2', 'g3'].map(
    (group, i) => ({ path: `${i}`, label: 'real', modality: 'image', group }) as const,
  );
  it('filters by group, then keeps the first N of each group', () => {
    expect(selectRows(rows, {}).map((r) => r.path)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(selectRows(rows, { limit: 1 }).map((r) => r.path)).toEqual(['0', '2', '5']);
    expect(selectRows(rows, { onlyGroups: ['g1', 'g3'], limit: 2 }).map((r) => r.path)).toEqual(['0', '1', '5']);
    expect(selectRows(rows, { onlyGroups: [] }).length).toBe(6);
  });
});

describe('plan', () => {
  const http = { sha256: A, url: 'https://h/a.jpg' };
  const mirror = { sha256: A, url: 'image/a.jpg' };
  it('skips a verified file and drops its stale .part', () => {
    expect(planRow(http, { final: { sha256: A } })).toEqual({ action: 'skip', discardPart: false });
    expect(planRow(mirror, { final: { sha256: A }, part: { bytes: 3, sha256: B } })).toEqual({
      action: 'skip',
      discardPart: true,
    });
  });
  it('promotes a complete .part, resumes a partial one over HTTP, restarts an empty one', () => {
    expect(planRow(http, { part: { bytes: 10, sha256: A } })).toEqual({ action: 'promote' });
    expect(planRow(http, { part: { bytes: 10, sha256: B } })).toEqual({ action: 'resume', offset: 10 });
    expect(planRow(http, { part: { bytes: 0, sha256: B } })).toEqual({ action: 'fetch', discardPart: true });
    expect(planRow(http, {})).toEqual({ action: 'fetch', discardPart: false });
  });
  it('replaces a final file with the wrong hash; mirrors copy whole', () => {
    expect(planRow(http, { final: { sha256: B } })).toEqual({ action: 'fetch', discardPart: false });
    expect(planRow(mirror, { final: { sha256: B }, part: { bytes: 5, sha256: B } })).toEqual({
      action: 'copy',
      discardPart: true,
    });
  });
});

describe('retry schedule', () => {
  const policy = { retries: 4, baseMs: 100, maxMs: 1000 };
  it('doubles, jitters between half and all of the step, and caps', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelayMs(2, policy, () => 0.5)).toBe(150);
  });
  it('honours Retry-After up to the cap', () => {
    expect(retryDelayMs(1, policy, () => 0, 700)).toBe(700);
    expect(retryDelayMs(1, policy, () => 0, 60_000)).toBe(1000);
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(DEFAULT_RETRY.retries).toBeGreaterThan(0);
  });
  it('retries only answers that can change', () => {
    expect([408, 425, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 416].some(isRetryableStatus)).toBe(false);
  });
  it('reads where a 206 starts', () => {
    expect(contentRangeStart('bytes 100-199/200')).toBe(100);
    expect(contentRangeStart('bytes 0-9/*')).toBe(0);
    expect(contentRangeStart('bytes */200')).toBeUndefined();
    expect(contentRangeStart(null)).toBeUndefined();
  });
});

describe('progress', () => {
  it('formats sizes and durations', () => {
    expect([0, 999, 1000, 12_345, 1_234_567, 248_436_794, 5e12].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '12.3 kB',
      '1.2 MB',
      '248 MB',
      '5.0 TB',
    ]);
    expect([0, 4_400, 65_000, 3_725_000].map(formatDuration)).toEqual(['0s', '4s', '1m05s', '1h02m']);
  });
  it('shows count, bytes, rate and ETA from the time per finished file', () => {
    expect(formatProgress({ total: 10, ok: 3, skipped: 1, failed: 1, bytes: 2_000_000, elapsedMs: 2000 })).toBe(
      '5/10 files, 1 already there, 1 failed | 2.0 MB at 1.0 MB/s | ETA 2s',
    );
    expect(formatProgress({ total: 4, ok: 0, skipped: 0, failed: 0, bytes: 0, elapsedMs: 0 })).toBe(
      '0/4 files | 0 B at - | ETA -',
    );
    expect(formatProgress({ total: 2, ok: 2, skipped: 0, failed: 0, bytes: 10, elapsedMs: 1000 })).toContain('| done');
  });
});

describe('manifest writer', () => {
  it('round-trips through parseCsv and parseDatasetManifest', () => {
    const rows = [
      { path: 'a.jpg', label: 'real', modality: 'image', group: 'g', notes: 'pair=b, "quoted"\nline two', sha256: A },
      { path: 'b.jpg', label: 'synthetic', modality: 'image', group: 'g', notes: ' lead', sha256: A },
    ];
    const text = toCsv(['path', 'label', 'modality', 'group', 'sha256', 'notes'], rows);
    expect(parseCsv(text).slice(1)).toEqual(rows.map((r) => [r.path, r.label, r.modality, r.group, r.sha256, r.notes]));
    const parsed = parseDatasetManifest(text);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.rows.map((r) => r.notes)).toEqual(rows.map((r) => r.notes));
  });
});
