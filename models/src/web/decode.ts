import { ErrorCode, messageOf, VeracityError } from '../core/errors.js';
import type { RawImage } from '../core/image.js';

type Drawable = ImageBitmap | OffscreenCanvas | VideoFrame | HTMLVideoElement | HTMLImageElement | HTMLCanvasElement;

/**
 * Reads the pixels of anything drawable into a RawImage through an OffscreenCanvas (pages, workers, offscreen
 * documents). Tainted (cross-origin) sources throw here: callers fetch those bytes and use decodeBlob instead.
 */
export function pixelsOf(source: Drawable, width: number, height: number): RawImage {
  if (!(width > 0 && height > 0)) throw new VeracityError(ErrorCode.Decode, `nothing to read: ${width}x${height}`);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new VeracityError(ErrorCode.Decode, 'no 2d context on OffscreenCanvas');
  try {
    ctx.drawImage(source as CanvasImageSource, 0, 0, width, height);
    const { data } = ctx.getImageData(0, 0, width, height);
    return { data, width, height, channels: 4 };
  } catch (e) {
    throw new VeracityError(ErrorCode.Decode, `cannot read pixels: ${messageOf(e)}`, { cause: e });
  }
}

/** Decodes encoded bytes (any format the browser reads), honouring EXIF orientation like an <img> does. */
export async function decodeBlob(blob: Blob): Promise<RawImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw new VeracityError(
      ErrorCode.Decode,
      `cannot decode image (${blob.type || 'unknown type'}, ${blob.size} bytes): ${messageOf(e)}`,
      {
        cause: e,
      },
    );
  }
  try {
    return pixelsOf(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}
