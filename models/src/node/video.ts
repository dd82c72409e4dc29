/**
 * Node video adapter: frames out of clips with ffprobe/ffmpeg (ffmpeg.ts). The validator cuts challenge frames
 * with it and veracity-eval scores clips with it, so both see the frames the same way.
 */
import { sampleFrameTimes } from '../core/classify.js';
import { decodeImageNode } from './decode.js';
import { ErrorCode, VeracityError } from '../core/errors.js';
import { ffmpegError, ffmpegOutput, ffmpegPng, ffprobe } from './ffmpeg.js';
import { MAX_PIXELS, type RawImage } from '../core/image.js';

/** How far frameAt steps back when a time lies past the last frame (a clip's duration can run 1/fps beyond it). */
const STEP_BACK_S = 0.125;

/** Clip length in seconds (E_DECODE when ffprobe cannot read it or finds none). */
export async function clipDuration(file: string): Promise<number> {
  let stdout: string;
  try {
    stdout = await ffprobe(['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  } catch (e) {
    throw ffmpegError(`cannot probe the duration of ${file}`, e);
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
    let png: Buffer;
    try {
      png = await ffmpegPng(file, ['-ss', t.toFixed(3)]);
    } catch (e) {
      throw ffmpegError(`cannot read the frame at ${t.toFixed(3)} s of ${file}`, e);
    }
    if (png.length > 0) return png;
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

/** How h264RoundTrip encodes: the constant rate factor (x264's quality, lower is better) and the frame rate. */
export interface H264Options {
  crf: number;
  fps: number;
}

/**
 * RGB frames (all `width` x `height`, even sides) through one H.264 encode (libx264, yuv420p, as camera and
 * generator clips are) and back: what the frames of a clip carry when the clip was made from them. One ffmpeg each
 * way, in memory (an elementary stream: no container, so nothing but the coded frames is kept).
 */
export async function h264RoundTrip(
  frames: readonly Uint8Array[],
  width: number,
  height: number,
  options: H264Options,
): Promise<Uint8Array[]> {
  const size = `${width}x${height}`;
  const frameBytes = width * height * 3;
  if (frames.length === 0 || width % 2 || height % 2 || frames.some((f) => f.length !== frameBytes))
    throw new VeracityError(ErrorCode.Decode, `h264RoundTrip needs RGB frames of one even size, got ${size}`);
  const raw = ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', size];
  let stream: Buffer;
  let back: Buffer;
  try {
    stream = await ffmpegOutput(
      Buffer.concat(frames),
      [...raw, '-r', String(options.fps)],
      ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(options.crf), '-pix_fmt', 'yuv420p', '-f', 'h264'],
    );
    back = await ffmpegOutput(stream, ['-f', 'h264'], raw.slice(0, 4));
  } catch (e) {
    throw ffmpegError(`cannot encode ${frames.length} frames of ${size} as H.264`, e);
  }
  if (back.length !== frameBytes * frames.length)
    throw new VeracityError(
      ErrorCode.Decode,
      `H.264 round trip gave ${back.length} bytes for ${frames.length} frames of ${size}`,
    );
  return frames.map((_, i) => back.subarray(i * frameBytes, (i + 1) * frameBytes));
}

/**
 * `count` frames `step` seconds apart from `start` on, decoded to RGB, from one ffmpeg run: the frames nearest each
 * time on that grid (ffmpeg's fps filter), written uncompressed (PPM). frameAt per time costs one process, one seek
 * and one PNG encode and decode per frame: 8 frames of a 3 s clip took 1.8 s that way and 0.2 s this way. Fewer
 * frames than `count` come back when the grid runs past the clip's end. E_DECODE when ffmpeg cannot read the clip.
 */
export async function clipFrames(file: string, o: { count: number; start: number; step: number }): Promise<RawImage[]> {
  let out: Buffer;
  try {
    out = await ffmpegOutput(
      file,
      ['-ss', Math.max(0, o.start).toFixed(3)],
      ['-vf', `fps=${(1 / o.step).toFixed(6)}`, '-frames:v', String(o.count), '-f', 'image2pipe', '-c:v', 'ppm'],
    );
  } catch (e) {
    throw ffmpegError(`cannot read ${o.count} frames of ${file}`, e);
  }
  return parsePpmFrames(out);
}

/** Binary PPMs (P6, 8 bit) back to back, as ffmpeg's image2pipe writes them. */
export function parsePpmFrames(bytes: Uint8Array): RawImage[] {
  const frames: RawImage[] = [];
  let at = 0;
  const token = (): string => {
    while (at < bytes.length && /\s/.test(String.fromCharCode(bytes[at]!))) at++;
    const from = at;
    while (at < bytes.length && !/\s/.test(String.fromCharCode(bytes[at]!))) at++;
    return new TextDecoder().decode(bytes.subarray(from, at));
  };
  while (at < bytes.length) {
    const [magic, w, h, max] = [token(), Number(token()), Number(token()), Number(token())];
    at++; // the one whitespace byte after maxval
    const size = w * h * 3;
    if (magic !== 'P6' || max !== 255 || !(w > 0 && h > 0) || w * h > MAX_PIXELS || at + size > bytes.length)
      throw new VeracityError(ErrorCode.Decode, `ffmpeg wrote a frame that is not an 8-bit RGB PPM (${magic} ${w}x${h} ${max})`);
    frames.push({ data: bytes.subarray(at, at + size), width: w, height: h, channels: 3 });
    at += size;
  }
  return frames;
}
