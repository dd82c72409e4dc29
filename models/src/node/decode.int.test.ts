// Integration: real sharp and real ffmpeg on files made here (no mocks).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageNode } from './decode.js';
import { isVeracityError, type VeracityError } from '../core/errors.js';
import { toRgb } from '../core/image.js';

let work: string;
let png: string;

/** The file ffmpeg writes from `png` (its encoder chosen by the extension), and its bytes. */
function convert(name: string, ...opts: string[]): string {
  const out = join(work, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', png, ...opts, out]);
  return out;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'veracity-decode-'));
  png = join(work, 'source.png');
  // Every pixel distinct (a gradient plus a checker), so a flipped or shifted decode cannot match by chance.
  const [w, h] = [37, 23];
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x * 6, y * 11, ((x + y) % 2) * 200 + 20], (y * w + x) * 3);
  await sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(png);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function expectFailure(input: Uint8Array | string): Promise<VeracityError> {
  const e = await decodeImageNode(input).then(
    () => null,
    (err: unknown) => err,
  );
  expect(isVeracityError(e, 'E_DECODE'), String(e)).toBe(true);
  return e as VeracityError;
}

describe('decodeImageNode', () => {
  it('reads formats libvips has no loader for through ffmpeg, pixel for pixel, from a path or from bytes', async () => {
    const rgb = toRgb(await decodeImageNode(png));
    // 851 colours in 8 bits are quantised: the palette BMP is compared with the same palette written as PNG.
    const pal8 = toRgb(await decodeImageNode(convert('pal.png', '-pix_fmt', 'pal8')));
    const cases = [
      [convert('a.bmp'), rgb],
      [convert('pal.bmp', '-pix_fmt', 'pal8'), pal8],
      [convert('a.tga'), rgb],
      [convert('a.ppm'), rgb],
    ] as const;
    expect(Buffer.compare(Buffer.from(pal8.data), Buffer.from(rgb.data))).not.toBe(0);
    for (const [file, expected] of cases) {
      for (const input of [file, readFileSync(file)]) {
        if (typeof input !== 'string' && file.endsWith('.tga')) continue; // TGA has no magic bytes: only by name
        const got = toRgb(await decodeImageNode(input));
        expect([got.width, got.height], file).toEqual([expected.width, expected.height]);
        expect(Buffer.compare(Buffer.from(got.data), Buffer.from(expected.data)), file).toBe(0);
      }
    }
  });

  it('names both decoders when neither reads a file, and says when it is empty', async () => {
    const text = join(work, 'text.jpg');
    writeFileSync(text, 'hello, not an image');
    for (const input of [text, readFileSync(text)]) {
      const e = await expectFailure(input);
      expect(e.message).toMatch(/sharp: .*unsupported image format; ffmpeg: /);
    }
    const empty = join(work, 'empty.png');
    writeFileSync(empty, '');
    for (const input of [empty, new Uint8Array(0)]) expect((await expectFailure(input)).message).toMatch(/empty/);
  });

  it('refuses a damaged file of a format sharp knows as sharp does, without a second opinion', async () => {
    const jpeg = await sharp(png).jpeg().toBuffer();
    const e = await expectFailure(jpeg.subarray(0, jpeg.length >> 1));
    expect(e.message).not.toMatch(/ffmpeg/);
    expect((await expectFailure(join(work, 'missing.png'))).message).toMatch(/missing/);
  });
});
