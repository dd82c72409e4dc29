import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** ffmpeg and ffprobe from PATH (Debian's `ffmpeg` package), or the binaries these variables name. */
const FFMPEG = process.env.VERACITY_FFMPEG ?? 'ffmpeg';
const FFPROBE = process.env.VERACITY_FFPROBE ?? 'ffprobe';

export async function clipDuration(file: string): Promise<number> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  const d = Number.parseFloat(stdout.trim());
  if (!(d > 0)) throw new Error(`ffprobe found no duration in ${file}`);
  return d;
}

/** One PNG frame at `seconds` (lossless: the augmentation decides the final encoding). */
export async function frameAt(file: string, seconds: number): Promise<Buffer> {
  const { stdout } = await run(
    FFMPEG,
    ['-v', 'error', '-ss', seconds.toFixed(3), '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  if (stdout.length === 0) throw new Error(`ffmpeg returned no frame at ${seconds}s of ${file}`);
  return stdout;
}

/**
 * `count` frames from a random window of the clip (start jittered by `offset` in [0,1)), evenly spaced: the same
 * clip yields different frame lists across challenges.
 */
export async function extractFrames(file: string, count: number, offset: number): Promise<Buffer[]> {
  const duration = await clipDuration(file);
  const span = duration * 0.9;
  const step = span / count;
  const times = Array.from({ length: count }, (_, i) => Math.min(duration - 0.05, (i + offset) * step));
  return Promise.all(times.map((t) => frameAt(file, Math.max(0, t))));
}
