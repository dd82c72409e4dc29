import { clipDuration, frameAt } from '@veracity/models/node';

/**
 * `count` frames from a random window of the clip (start jittered by `offset` in [0,1)), evenly spaced: the same
 * clip yields different frame lists across challenges. Frames come from the runtime's Node video adapter
 * (ffmpeg/ffprobe, or $VERACITY_FFMPEG / $VERACITY_FFPROBE), the one veracity-eval scores clips with.
 */
export async function extractFrames(file: string, count: number, offset: number): Promise<Buffer[]> {
  const duration = await clipDuration(file);
  const span = duration * 0.9;
  const step = span / count;
  const times = Array.from({ length: count }, (_, i) => Math.min(duration - 0.05, (i + offset) * step));
  return Promise.all(times.map((t) => frameAt(file, Math.max(0, t))));
}
