// Integration: real ffmpeg/ffprobe on clips made here (no mocks).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isVeracityError } from '../core/errors.js';
import { clipDuration, decodeClipNode, frameAt } from './video.js';

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

  it('refuses a corrupt or missing clip with E_DECODE', async () => {
    for (const file of [join(work, 'corrupt.mp4'), join(work, 'missing.mp4')]) {
      const error = await decodeClipNode(file, 4).catch((e: unknown) => e);
      expect(isVeracityError(error, ErrorCode.Decode), String(error)).toBe(true);
    }
  });
});
