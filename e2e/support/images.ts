import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

export interface TestImage {
  name: string;
  type: string;
  bytes: Buffer;
}

/** Where labelled media lives; `../shared/datasets` beside the checkout by default. */
export const DATASET_DIR = resolve(process.env.VERACITY_DATASET ?? join(import.meta.dirname, '../../../shared/datasets'));

/** A photo-like synthetic picture (smooth gradients plus texture), the same on every run. */
export async function syntheticPhoto(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const t = ((x * 31 + y * 17) * 2654435761) >>> 28;
      data[o] = Math.min(255, (x * 255) / width + t);
      data[o + 1] = Math.min(255, (y * 255) / height + t);
      data[o + 2] = (128 + 100 * Math.sin(x / 9) * Math.cos(y / 13)) | 0;
    }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Lossless and lossy synthetic images, plus one real and one AI file from the dataset when it is present. */
export async function testImages(): Promise<TestImage[]> {
  const png = await syntheticPhoto(320, 240);
  const images: TestImage[] = [
    { name: 'synthetic.png', type: 'image/png', bytes: png },
    { name: 'synthetic.jpg', type: 'image/jpeg', bytes: await sharp(png).jpeg({ quality: 85 }).toBuffer() },
    {
      name: 'synthetic-tall.webp',
      type: 'image/webp',
      bytes: await sharp(await syntheticPhoto(150, 400))
        .webp({ lossless: true })
        .toBuffer(),
    },
  ];
  for (const rel of ['image/faces-ffhq/00000.jpg', 'image/faces-stylegan/00000.jpg']) {
    const file = join(DATASET_DIR, rel);
    if (existsSync(file)) images.push({ name: rel, type: 'image/jpeg', bytes: readFileSync(file) });
  }
  return images;
}
