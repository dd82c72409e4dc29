import { copyFileSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { ChallengeDataset } from '../challenges/dataset.js';

/**
 * A private real-photo pool as an operator would keep one: `n` real photos (at least 300 px a side) from the
 * dataset in a folder and a subfolder, plus one broken file, one photo too small to use and a text file.
 */
export async function makePool(dataset: ChallengeDataset, n = 6): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-pool-'));
  mkdirSync(join(dir, 'trip'));
  let copied = 0;
  for (const row of dataset.rows.filter((r) => r.label === 'real' && r.modality === 'image' && r.group === 'photos-imagenet')) {
    const m = await sharp(dataset.path(row)).metadata();
    if (Math.min(m.width!, m.height!) < 300) continue;
    copyFileSync(dataset.path(row), join(dir, copied % 2 ? 'trip' : '.', `p${copied}.jpg`));
    if (++copied === n) break;
  }
  writeFileSync(join(dir, 'broken.jpg'), 'not a jpeg');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
    .png()
    .toFile(join(dir, 'tiny.png'));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  return dir;
}

/**
 * A private real-clip pool: the `n` smallest real clips of the dataset in a folder and a subfolder, plus one broken
 * clip (text named .mp4) and a text file.
 */
export function makeClipPool(dataset: ChallengeDataset, n = 2): string {
  const dir = mkdtempSync(join(tmpdir(), 'veracity-clips-'));
  mkdirSync(join(dir, 'trip'));
  const rows = dataset.rows
    .filter((r) => r.label === 'real' && r.modality === 'video')
    .map((r) => ({ r, size: statSync(dataset.path(r)).size }))
    .sort((a, b) => a.size - b.size)
    .slice(0, n);
  rows.forEach(({ r }, i) => copyFileSync(dataset.path(r), join(dir, i % 2 ? 'trip' : '.', `c${i}${extname(r.path)}`)));
  writeFileSync(join(dir, 'broken.mp4'), 'not a clip');
  writeFileSync(join(dir, 'notes.txt'), 'not a clip');
  return dir;
}
