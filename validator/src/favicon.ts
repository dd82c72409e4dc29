/**
 * The project's favicon, made in code so no binary sits in the repository: a 16x16 32-bit ICO (a white "V" on the
 * status page's blue). Browsers ask every server for /favicon.ico; the one static-file server answers with this when
 * the folder it serves has none, instead of logging a 404 on every page load.
 */
const SIZE = 16;

function pixel(x: number, y: number): [number, number, number, number] {
  // Rounded square: outside its corners stays transparent.
  const r = 3;
  const cx = Math.min(Math.max(x + 0.5, r), SIZE - r);
  const cy = Math.min(Math.max(y + 0.5, r), SIZE - r);
  if (Math.hypot(x + 0.5 - cx, y + 0.5 - cy) > r) return [0, 0, 0, 0];
  // Two strokes of a "V" from the top corners to the bottom middle.
  const stroke = (x0: number, y0: number, x1: number, y1: number) => {
    const [px, py] = [x + 0.5, y + 0.5];
    const t = Math.max(0, Math.min(1, ((px - x0) * (x1 - x0) + (py - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2)));
    return Math.hypot(px - (x0 + t * (x1 - x0)), py - (y0 + t * (y1 - y0)));
  };
  if (Math.min(stroke(4, 4, 8, 12.5), stroke(12, 4, 8, 12.5)) < 1.1) return [255, 255, 255, 255];
  return [0x2e, 0x90, 0xfa, 255];
}

function build(): Uint8Array {
  const pixels = SIZE * SIZE * 4;
  const mask = SIZE * 4; // 1-bit AND mask, rows padded to 32 bits (all zero: alpha decides)
  const image = 40 + pixels + mask;
  const out = new Uint8Array(6 + 16 + image);
  const v = new DataView(out.buffer);
  // ICONDIR: reserved, type 1 (icon), 1 image
  v.setUint16(2, 1, true);
  v.setUint16(4, 1, true);
  // ICONDIRENTRY: 16x16, no palette, 1 plane, 32 bpp, size, offset
  out[6] = SIZE;
  out[7] = SIZE;
  v.setUint16(10, 1, true);
  v.setUint16(12, 32, true);
  v.setUint32(14, image, true);
  v.setUint32(18, 22, true);
  // BITMAPINFOHEADER; an icon's height counts the colour rows and the mask rows
  v.setUint32(22, 40, true);
  v.setInt32(26, SIZE, true);
  v.setInt32(30, SIZE * 2, true);
  v.setUint16(34, 1, true);
  v.setUint16(36, 32, true);
  v.setUint32(42, pixels + mask, true);
  // Bottom-up rows of BGRA.
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const [r, g, b, a] = pixel(x, SIZE - 1 - y);
      out.set([b, g, r, a], 62 + (y * SIZE + x) * 4);
    }
  return out;
}

export const FAVICON_ICO: Uint8Array = build();
