// Renders the toolbar/store icons from public/icons/icon.svg (sharp rasterises SVG). The PNGs are committed, so a
// build needs no rasteriser: run this only after changing the SVG.   npx tsx extension/scripts/icons.ts
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const dir = fileURLToPath(new URL('../public/icons/', import.meta.url));
for (const size of [16, 32, 48, 128]) {
  await sharp(`${dir}icon.svg`, { density: 72 * (size / 128) * 8 })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toFile(`${dir}icon-${size}.png`);
  console.log(`icon-${size}.png`);
}
