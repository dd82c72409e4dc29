import { describe, expect, it } from 'vitest';
import { initialSampler, recordSample, type SamplerState, shouldSample, type VideoEvent } from './video.js';

function run(events: VideoEvent[], max = 8): number[] {
  let s: SamplerState = initialSampler();
  const taken: number[] = [];
  for (const e of events) {
    if (shouldSample(s, e, 1000, max)) {
      s = recordSample(s, e);
      taken.push(e.currentTime);
    }
  }
  return taken;
}

describe('video frame sampling', () => {
  it('samples when playback starts, then every interval while playing, and on pause', () => {
    const ev: VideoEvent[] = [
      { type: 'playing', now: 0, currentTime: 0.1 },
      { type: 'tick', now: 500, currentTime: 0.6 },
      { type: 'tick', now: 1000, currentTime: 1.1 },
      { type: 'tick', now: 1500, currentTime: 1.6 },
      { type: 'pause', now: 1700, currentTime: 1.8 },
    ];
    expect(run(ev)).toEqual([0.1, 1.1, 1.8]);
  });
  it('a pause right on a sampled frame adds nothing; maxFrames caps it', () => {
    expect(
      run([
        { type: 'pause', now: 0, currentTime: 2 },
        { type: 'pause', now: 10, currentTime: 2 },
      ]),
    ).toEqual([2]);
    const ticks = Array.from({ length: 20 }, (_, i) => ({ type: 'tick' as const, now: i * 1000, currentTime: i }));
    expect(run(ticks, 3)).toEqual([0, 1, 2]);
  });
});
