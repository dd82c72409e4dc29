/**
 * Node video adapter: frames out of clips with ffprobe/ffmpeg (Debian's `ffmpeg` package, or the binaries
 * $VERACITY_FFMPEG / $VERACITY_FFPROBE name). The validator cuts challenge frames with it and veracity-eval scores
 * clips with it, so both see the frames the same way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sampleFrameTimes } from './classify.js';
import { decodeImageNode } from './decode-node.js';
import { ErrorCode, messageOf, VeracityError } from './errors.js';
import type { RawImage } from './image.js';

const run = promisify(execFile);

const FFMPEG = process.env.VERACITY_FFMPEG ?? 'ffmpeg';
const FFPROBE = process.env.VERACITY_FFPROBE ?? 'ffprobe';

/** How far frameAt steps back when a time lies past the last frame (a clip's duration can run 1/fps beyond it). */
const STEP_BACK_S = 0.125;

function decodeError(file: string, what: string, e: unknown): VeracityError {
  const missing = (e as { code?: unknown })?.code === 'ENOENT';
  return new VeracityError(
    ErrorCode.Decode,
    missing
      ? `${what} of ${file}: ${FFMPEG}/${FFPROBE} not found (install ffmpeg or set VERACITY_FFMPEG and VERACITY_FFPROBE)`
      : `${what} of ${file}: ${messageOf(e)}`,
    { cause: e },
  );
}

/** Clip length in seconds (E_DECODE when ffprobe cannot read it or finds none). */
export async function clipDuration(file: string): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await run(FFPROBE, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]));
  } catch (e) {
    throw decodeError(file, 'cannot probe the duration', e);
  }
  const d = Number.parseFloat(stdout.trim());
  if (!(d > 0)) throw new VeracityError(ErrorCode.Decode, `ffprobe found no duration in ${file}`);
  return d;
}

/**
 * One PNG frame (lossless: callers decide any later encoding) shown at `seconds`. A time past the last decodable
 * frame makes ffmpeg return nothing; it then steps back 1/8 s at a time, as a player shows the last frame.
 */
export async function frameAt(file: string, seconds: number): Promise<Buffer> {
  for (let t = Math.max(0, seconds); ; t = Math.max(0, t - STEP_BACK_S)) {
    let stdout: Buffer;
    try {
      ({ stdout } = await run(
        FFMPEG,
        ['-v', 'error', '-ss', t.toFixed(3), '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      ));
    } catch (e) {
      throw decodeError(file, `cannot read the frame at ${t.toFixed(3)} s`, e);
    }
    if (stdout.length > 0) return stdout;
    if (t === 0) throw new VeracityError(ErrorCode.Decode, `ffmpeg returned no frame of ${file}`);
  }
}

/** The `count` frames the runtime scores for a clip (evenly spread, classify.ts sampleFrameTimes), decoded. */
export async function decodeClipNode(file: string, count: number): Promise<RawImage[]> {
  const times = sampleFrameTimes(await clipDuration(file), count);
  const frames: RawImage[] = [];
  // One ffmpeg at a time: each already decodes on several threads, and a clip's frames are few.
  for (const t of times) frames.push(await decodeImageNode(await frameAt(file, t)));
  return frames;
}
