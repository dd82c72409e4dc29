import sharp from 'sharp';
import { ErrorCode, messageOf, VeracityError } from './errors.js';
import { MAX_PIXELS, type RawImage } from './image.js';

/**
 * Decodes any format libvips reads (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF) to RGB(A), applying EXIF orientation
 * and converting to sRGB as browsers do by default, so Node sees the pixels a page shows.
 */
export async function decodeImageNode(input: Uint8Array | string): Promise<RawImage> {
  try {
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
  } catch (e) {
    const what = typeof input === 'string' ? input : `${input.length} bytes`;
    throw new VeracityError(ErrorCode.Decode, `cannot decode image (${what}): ${messageOf(e)}`, { cause: e });
  }
}
