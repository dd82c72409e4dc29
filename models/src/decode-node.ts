import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { ErrorCode, messageOf, VeracityError } from './errors.js';
import { ffmpegError, ffmpegPng } from './ffmpeg-node.js';
import { MAX_PIXELS, type RawImage } from './image.js';

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
 * Decodes any format libvips reads (JPEG, PNG, WebP, GIF, AVIF, TIFF) to RGB(A), applying EXIF orientation and
 * converting to sRGB as browsers do by default, so Node sees the pixels a page shows. Formats sharp's libvips has no
 * loader for but a browser or a dataset may hold (BMP, ICO, PGM/PPM, TGA, JPEG 2000, ...) go through ffmpeg, which
 * the video path needs anyway, as a lossless PNG of their first frame. A file neither reads is one E_DECODE naming
 * both failures; a damaged file of a format sharp knows (a truncated JPEG) is refused as sharp refuses it.
 */
export async function decodeImageNode(input: Uint8Array | string): Promise<RawImage> {
  const what = typeof input === 'string' ? input : `${input.length} bytes`;
  try {
    return await sharpDecode(input);
  } catch (e) {
    const empty = typeof input === 'string' ? (await stat(input).catch(() => null))?.size === 0 : input.length === 0;
    if (empty) throw new VeracityError(ErrorCode.Decode, `cannot decode image (${what}): the file is empty`, { cause: e });
    if (!/unsupported image format/i.test(messageOf(e))) {
      throw new VeracityError(ErrorCode.Decode, `cannot decode image (${what}): ${messageOf(e)}`, { cause: e });
    }
    let png: Buffer;
    try {
      png = await ffmpegPng(input).then((b) => (b.length > 0 ? b : Promise.reject(new Error('no frame'))));
    } catch (e2) {
      const failure = ffmpegError('ffmpeg', e2).message.replace(/^E_DECODE: /, '');
      throw new VeracityError(ErrorCode.Decode, `cannot decode image (${what}): sharp: ${messageOf(e)}; ${failure}`, {
        cause: e2,
        details: { sharp: messageOf(e), ffmpeg: messageOf(e2) },
      });
    }
    return sharpDecode(png).catch((e3: unknown) => {
      throw new VeracityError(ErrorCode.Decode, `cannot decode image (${what}) converted by ffmpeg: ${messageOf(e3)}`, {
        cause: e3,
      });
    });
  }
}
