import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
