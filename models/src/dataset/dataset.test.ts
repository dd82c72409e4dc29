import { describe, expect, it } from 'vitest';
import { isAi, parseCsv, parseDatasetManifest } from './dataset.js';

describe('dataset manifest', () => {
  it('parses quoted CSV fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi""\nthere"\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"\nthere'],
    ]);
  });

  it('keeps good rows and reports bad ones by line', () => {
    const { rows, rejected } = parseDatasetManifest(
      [
        'path,label,modality,group,notes',
        'image/a.jpg,real,image,g1,"pair=b, cropped"',
        'image/b.jpg,synthetic,image,,',
        'image/c.jpg,fake,image,g1,',
        '../etc/passwd,real,image,g1,',
        'video/d.mp4,semisynthetic,video,g2,',
      ].join('\n'),
    );
    expect(rows.map((r) => [r.path, r.group])).toEqual([
      ['image/a.jpg', 'g1'],
      ['image/b.jpg', 'ungrouped'],
      ['video/d.mp4', 'g2'],
    ]);
    expect(rows[0]?.notes).toBe('pair=b, cropped');
    expect(rejected.map((r) => r.line)).toEqual([4, 5]);
    expect(isAi('semisynthetic')).toBe(1);
    expect(isAi('real')).toBe(0);
  });

  it('refuses paths that leave the set, and absolute paths unless asked to take them', () => {
    const text = ['path,label', ' a..b.jpg ,real', 'x/../../etc/passwd,real', '/data/c.jpg,real', 'C:\\d.jpg,real'].join('\n');
    const strict = parseDatasetManifest(text);
    expect(strict.rows.map((r) => r.path)).toEqual(['a..b.jpg']);
    expect(strict.rejected.map((r) => [r.line, r.reason.replace(/"[^"]*"/, 'P')])).toEqual([
      [3, "path P leaves the dataset folder ('..')"],
      [4, "path P is absolute: give it relative to the manifest's folder"],
      [5, "path P is absolute: give it relative to the manifest's folder"],
    ]);
    const loose = parseDatasetManifest(text, { absolutePaths: true });
    expect(loose.rows.map((r) => r.path)).toEqual(['a..b.jpg', '/data/c.jpg', 'C:\\d.jpg']);
    expect(loose.rejected.map((r) => r.line)).toEqual([3]);
  });

  it('names missing columns', () => {
    expect(() => parseDatasetManifest('path,group\nx,g')).toThrow(/lacks the column\(s\) label$/);
    expect(() => parseDatasetManifest('file,class\nx,real')).toThrow(/path, label/);
  });

  it('needs only path and label: modality from the extension, group "ungrouped", spreadsheet quirks tolerated', () => {
    const { rows, rejected } = parseDatasetManifest(
      ['\uFEFF Path ,LABEL', 'a.PNG,Real', 'b.webp, synthetic', 'c.MP4,semisynthetic', 'd.jpg,fake'].join('\r\n'),
    );
    expect(rows.map((r) => [r.path, r.label, r.modality, r.group])).toEqual([
      ['a.PNG', 'real', 'image', 'ungrouped'],
      ['b.webp', 'synthetic', 'image', 'ungrouped'],
      ['c.MP4', 'semisynthetic', 'video', 'ungrouped'],
    ]);
    expect(rejected).toEqual([{ line: 5, reason: 'unknown label "fake"' }]);
  });
});
