import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { ErrorCode, messageOf, VeracityError } from '../core/errors.js';
import { ffmpegFailure, ffmpegPng } from './ffmpeg.js';
import { MAX_PIXELS, type RawImage } from '../core/image.js';

async function sharpDecode(input: Uint8Array | string): Promise<RawImage> {
  const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: MAX_PIXELS })
    .rotate()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: info.channels as RawImage['channels'],
  };
}

/**
 * What to hand sharp after it refused `input` with `error`: for a format libvips has no loader for but a browser or
 * a dataset may hold (BMP, ICO, PGM/PPM, TGA, JPEG 2000, ...), a lossless PNG of its first frame made by ffmpeg,
 * which the video path needs anyway. Anything else sharp refused (a truncated JPEG, a missing file), an empty file,
 * or a file ffmpeg cannot read either is one E_DECODE naming every failure.
 */
export async function sharpFallback(input: Uint8Array | string, error: unknown): Promise<Buffer> {
  const what = `cannot decode image (${typeof input === 'string' ? input : `${input.length} bytes`})`;
  const empty = typeof input === 'string' ? (await stat(input).catch(() => null))?.size === 0 : input.length === 0;
  if (empty) throw new VeracityError(ErrorCode.Decode, `${what}: the file is empty`, { cause: error });
  if (!/unsupported image format/i.test(messageOf(error))) {
    throw new VeracityError(ErrorCode.Decode, `${what}: ${messageOf(error)}`, { cause: error });
  }
  try {
    const png = await ffmpegPng(input);
    if (png.length > 0) return png;
    throw new Error('no frame');
  } catch (e) {
    throw new VeracityError(ErrorCode.Decode, `${what}: sharp: ${messageOf(error)}; ffmpeg: ${ffmpegFailure(e)}`, {
      cause: e,
      details: { sharp: messageOf(error), ffmpeg: messageOf(e) },
    });
  }
}

/**
 * Decodes any format libvips reads (JPEG, PNG, WebP, GIF, AVIF, TIFF, SVG), and through sharpFallback those it
 * does not, to RGB(A), applying EXIF orientation and converting to sRGB as browsers do by default, so Node sees the
 * pixels a page shows.
 */
export async function decodeImageNode(input: Uint8Array | string): Promise<RawImage> {
  try {
    return await sharpDecode(input);
  } catch (e) {
    const png = await sharpFallback(input, e);
    return sharpDecode(png).catch((e2: unknown) => {
      throw new VeracityError(ErrorCode.Decode, `cannot decode image converted by ffmpeg: ${messageOf(e2)}`, { cause: e2 });
    });
  }
}
