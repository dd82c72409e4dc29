// Pixel helpers for the offscreen document (OffscreenCanvas; no page DOM involved).
import type { RawImage } from '@veracity/models/web';
import { ExtensionError, ExtensionErrorCode } from '../core/errors.js';
import type { Rect } from '../core/messages.js';

function toImageData(image: RawImage): ImageData {
  if (image.channels === 4)
    return new ImageData(
      new Uint8ClampedArray(image.data.buffer as ArrayBuffer, image.data.byteOffset, image.data.length),
      image.width,
      image.height,
    );
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += image.channels) {
    rgba[i] = image.data[j]!;
    rgba[i + 1] = image.data[j + (image.channels >= 3 ? 1 : 0)]!;
    rgba[i + 2] = image.data[j + (image.channels >= 3 ? 2 : 0)]!;
    rgba[i + 3] = 255;
  }
  return new ImageData(rgba, image.width, image.height);
}

/** Cuts an element's box (CSS px in the viewport) out of a capture of the visible tab (device px). */
export function cropScreenshot(shot: RawImage, rect: Rect, dpr: number): RawImage {
  const x = Math.max(0, Math.round(rect.x * dpr));
  const y = Math.max(0, Math.round(rect.y * dpr));
  const w = Math.min(shot.width - x, Math.round(rect.width * dpr));
  const h = Math.min(shot.height - y, Math.round(rect.height * dpr));
  if (w <= 0 || h <= 0) throw new ExtensionError(ExtensionErrorCode.MediaUnreadable, 'the video is not on screen');
  const channels = shot.channels;
  const data = new Uint8ClampedArray(w * h * channels);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * shot.width + x) * channels;
    data.set(shot.data.subarray(from, from + w * channels), row * w * channels);
  }
  return { data, width: w, height: h, channels };
}

/**
 * A small JPEG of what was scored, for the popup's list of flagged items. Encoded synchronously through a <canvas>
 * of this (hidden) document: OffscreenCanvas.convertToBlob on a window's main thread waits for an idle period, and
 * a document that never renders has none, so each encode waited for Chrome's 1 s idle-task timeout (measured: 1.0 s
 * per thumbnail, which set the pace of a 100-image page at one badge a second). A 96 px JPEG takes well under 1 ms.
 */
export async function thumbnail(image: RawImage, side = 96): Promise<string> {
  const scale = Math.min(1, side / Math.max(image.width, image.height));
  const bitmap = await createImageBitmap(toImageData(image), {
    resizeWidth: Math.max(1, Math.round(image.width * scale)),
    resizeHeight: Math.max(1, Math.round(image.height * scale)),
    resizeQuality: 'medium',
  });
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.toDataURL('image/jpeg', 0.7);
}
