// Integration: real ffmpeg/ffprobe on clips made here (no mocks).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isVeracityError } from '../core/errors.js';
import { decodeImageNode } from './decode.js';
import { clipDuration, clipFrames, decodeClipNode, frameAt, parsePpmFrames } from './video.js';

let work: string;
let clip: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'veracity-video-'));
  clip = join(work, 'low-fps.mp4');
  // 8 fps and 1.9 s: the container's duration runs past the last frame's timestamp (1.75 s), the case where a
  // plain seek to (i + 0.5) * duration / count finds no frame.
  execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=8', '-t', '1.875',
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', clip,
  ]); // prettier-ignore
  writeFileSync(join(work, 'corrupt.mp4'), 'not a video');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Node video adapter', () => {
  it('reads the duration and returns a frame even past the last frame', async () => {
    const d = await clipDuration(clip);
    expect(d).toBeGreaterThan(1.7);
    const last = await frameAt(clip, d - 0.01);
    expect(last.subarray(1, 4).toString()).toBe('PNG');
  });

  it('decodes the frames the runtime samples, at the clip size', async () => {
    const frames = await decodeClipNode(clip, 8);
    expect(frames).toHaveLength(8);
    for (const f of frames) expect([f.width, f.height]).toEqual([96, 64]);
    // testsrc moves: the first and last sampled frames differ.
    expect(Buffer.compare(Buffer.from(frames[0]!.data), Buffer.from(frames[7]!.data))).not.toBe(0);
  });

  it('reads a grid of frames in one run: the frames frameAt shows at those times, fewer past the end', async () => {
    // 8 fps: a grid 0.25 s apart from 0.125 s lands on frames 1, 3, 5, ...; testsrc frames all differ.
    const frames = await clipFrames(clip, { count: 4, start: 0.125, step: 0.25 });
    expect(frames).toHaveLength(4);
    for (const [i, f] of frames.entries()) {
      expect([f.width, f.height, f.channels]).toEqual([96, 64, 3]);
      const ref = await decodeImageNode(await frameAt(clip, 0.125 + i * 0.25));
      expect(Buffer.compare(Buffer.from(f.data), Buffer.from(ref.data)), `frame ${i}`).toBe(0);
    }
    // 15 frames in the clip: a grid of 8 frames 0.25 s apart from 0.5 s runs past the last one.
    expect((await clipFrames(clip, { count: 8, start: 0.5, step: 0.25 })).length).toBeLessThan(8);
    const error = await clipFrames(join(work, 'corrupt.mp4'), { count: 2, start: 0, step: 0.5 }).catch((e: unknown) => e);
    expect(isVeracityError(error, ErrorCode.Decode), String(error)).toBe(true);
  });

  it('parses PPM frames back to back and refuses anything else with E_DECODE', () => {
    const ppm = (w: number, h: number, v: number) =>
      Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), Buffer.alloc(w * h * 3, v)]);
    const frames = parsePpmFrames(Buffer.concat([ppm(2, 1, 7), ppm(1, 3, 9)]));
    expect(frames.map((f) => [f.width, f.height, f.data[0]])).toEqual([
      [2, 1, 7],
      [1, 3, 9],
    ]);
    for (const bad of [Buffer.from('P5\n1 1\n255\n\0'), ppm(4, 4, 0).subarray(0, 20), Buffer.from('P6\n1 1\n65535\n\0\0\0')])
      expect(() => parsePpmFrames(bad)).toThrow(/not an 8-bit RGB PPM/);
  });

  it('refuses a corrupt or missing clip with E_DECODE', async () => {
    for (const file of [join(work, 'corrupt.mp4'), join(work, 'missing.mp4')]) {
      const error = await decodeClipNode(file, 4).catch((e: unknown) => e);
      expect(isVeracityError(error, ErrorCode.Decode), String(error)).toBe(true);
    }
  });
});
