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

  it('names missing columns', () => {
    expect(() => parseDatasetManifest('path,label\nx,real')).toThrow(/modality, group/);
  });
});
