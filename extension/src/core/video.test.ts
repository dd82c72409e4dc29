import { describe, expect, it } from 'vitest';
import { parseManifest } from '@veracity/models';
import type { Probabilities } from '@veracity/protocol/domain';
import { readFileSync } from 'node:fs';
import {
  initialSampler,
  recordSample,
  type SamplerState,
  shouldSample,
  type VideoEvent,
  videoSamplingOf,
  videoVerdict,
} from './video.js';

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

describe('video sampling and verdict from the bundle manifest', () => {
  const shipped = parseManifest(
    JSON.parse(readFileSync(new URL('../../../models/bundle/manifest.json', import.meta.url), 'utf8')),
  );
  const frames: Probabilities[] = [
    [0.9, 0.05, 0.05],
    [0.3, 0.6, 0.1],
    [0.8, 0.1, 0.1],
  ];

  it("takes frame count and aggregation from the manifest's video section", () => {
    expect(videoSamplingOf(shipped)).toEqual({ frames: shipped.video.frames, aggregate: shipped.video.aggregate });
    const other = { ...shipped, video: { frames: 3, sampling: 'uniform' as const, aggregate: 'max-ai' as const } };
    expect(videoSamplingOf(other)).toEqual({ frames: 3, aggregate: 'max-ai' });
  });

  it("a bundle's frame count caps the sampler", () => {
    const ticks = Array.from({ length: 20 }, (_, i) => ({ type: 'tick' as const, now: i * 1000, currentTime: i }));
    expect(run(ticks, videoSamplingOf({ video: { frames: 5, sampling: 'uniform', aggregate: 'mean' } }).frames)).toHaveLength(5);
  });

  it("'mean' averages the frames; 'max-ai' keeps the frame most sure it is AI, as the runtime does", () => {
    const mean = videoVerdict(frames, { frames: 8, aggregate: 'mean' });
    expect(mean.probabilities[0]).toBeCloseTo(2 / 3, 12);
    expect(mean.ai).toBeCloseTo(1 / 3, 12);
    const max = videoVerdict(frames, { frames: 8, aggregate: 'max-ai' });
    expect(max.probabilities).toEqual([0.3, 0.6, 0.1]);
    expect(max.ai).toBeCloseTo(0.7, 12);
  });
});
