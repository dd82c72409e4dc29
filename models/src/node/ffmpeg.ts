/**
 * The one place the Node runtime runs ffmpeg/ffprobe (Debian's `ffmpeg` package, or the binaries $VERACITY_FFMPEG /
 * $VERACITY_FFPROBE name): video frames for the validator and veracity-eval, and images in formats sharp's libvips
 * has no loader for.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ErrorCode, messageOf, VeracityError } from '../core/errors.js';

const run = promisify(execFile);

const FFMPEG = process.env.VERACITY_FFMPEG ?? 'ffmpeg';
const FFPROBE = process.env.VERACITY_FFPROBE ?? 'ffprobe';

/** Large enough for one lossless frame of a 16k x 16k image's worth of PNG; ffmpeg stops at one frame anyway. */
const MAX_OUTPUT = 1024 * 1024 * 1024;

/** Why an ffmpeg/ffprobe call failed, naming the fix when the binary is missing. */
export function ffmpegFailure(e: unknown): string {
  return (e as { code?: unknown })?.code === 'ENOENT'
    ? `${FFMPEG}/${FFPROBE} not found (install ffmpeg or set VERACITY_FFMPEG and VERACITY_FFPROBE)`
    : messageOf(e);
}

/** E_DECODE for a failed ffmpeg/ffprobe call: `what` it was doing, then ffmpegFailure. */
export function ffmpegError(what: string, e: unknown): VeracityError {
  return new VeracityError(ErrorCode.Decode, `${what}: ${ffmpegFailure(e)}`, { cause: e });
}

/** ffmpeg's stderr as one line: its distinct messages without the '[decoder @ 0x...]' prefixes, first three. */
function firstLines(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/, '').trim());
  return [...new Set(lines.filter(Boolean))].slice(0, 3).join('; ');
}

/** ffprobe's stdout (text); rejects with ffprobe's own error. */
export async function ffprobe(args: string[]): Promise<string> {
  return (await run(FFPROBE, args)).stdout;
}

/**
 * One frame as PNG (lossless, so callers decide any later encoding): `input` is a file path, or bytes piped to
 * ffmpeg's stdin (its image2pipe demuxer probes the format from the content). `before` are input options such as a
 * seek. Empty output means ffmpeg found no frame there; rejects with ffmpeg's stderr.
 */
export function ffmpegPng(input: string | Uint8Array, before: string[] = []): Promise<Buffer> {
  return ffmpegOutput(input, before, ['-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png']);
}

/**
 * What ffmpeg writes to stdout for `input` (a file path, or bytes piped to its stdin) with input options `before`
 * and output options `after`; rejects with ffmpeg's stderr.
 */
export function ffmpegOutput(input: string | Uint8Array, before: string[], after: string[]): Promise<Buffer> {
  // `file:` keeps a path with a colon (or one that starts with '-') from being read as a protocol or an option.
  const args = ['-v', 'error', ...before, '-i', typeof input === 'string' ? `file:${input}` : 'pipe:0'];
  if (typeof input === 'string') args.unshift('-nostdin'); // stdin is not a keyboard here
  args.push(...after, 'pipe:1');
  return new Promise((resolve, reject) => {
    const child = spawn(FFMPEG, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_OUTPUT) child.kill('SIGKILL');
      else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else if (size > MAX_OUTPUT) reject(new Error(`ffmpeg output passed ${MAX_OUTPUT} bytes`));
      else reject(new Error(firstLines(stderr) || `ffmpeg exited with ${code ?? signal}`));
    });
    // ffmpeg may stop reading once it has a frame (or gives up on the format): that EPIPE is not our failure.
    child.stdin.on('error', () => {});
    if (typeof input === 'string') child.stdin.end();
    else child.stdin.end(input);
  });
}
