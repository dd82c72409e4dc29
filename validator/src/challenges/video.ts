import { clipDuration, clipFrames, frameAt } from '@veracity/models/node';
import { decodeSource, type DecodedImage, fitDecoded } from './augment.js';

/**
 * `count` frames from a random window of the clip (start jittered by `offset` in [0,1)), evenly spaced: the same
 * clip yields different frame lists across challenges. Frames come from the runtime's Node video adapter
 * (ffmpeg/ffprobe, or $VERACITY_FFMPEG / $VERACITY_FFPROBE), the one veracity-eval scores clips with: all of them
 * from one ffmpeg run (clipFrames), or, when that run stops short of `count` (a grid past the clip's last frame),
 * one seek per frame (frameAt, which steps back from past the end).
 */
export async function extractFrames(file: string, count: number, offset: number): Promise<DecodedImage[]> {
  const duration = await clipDuration(file);
  const span = duration * 0.9;
  const step = span / count;
  const frames = await clipFrames(file, { count, start: offset * step, step });
  if (frames.length === count) {
    return Promise.all(
      frames.map((f) =>
        fitDecoded({ data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length), width: f.width, height: f.height }),
      ),
    );
  }
  const times = Array.from({ length: count }, (_, i) => Math.min(duration - 0.05, (i + offset) * step));
  return Promise.all(times.map(async (t) => decodeSource(await frameAt(file, Math.max(0, t)))));
}
