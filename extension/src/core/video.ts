// When to take a frame from a <video>: every `intervalMs` of playback while it plays, and once when it pauses,
// up to `maxFrames` (the bundle's video.frames); and how its frames' scores become its verdict (the bundle's
// video.aggregate). Pure: the video collector feeds it events and the clock, the scanner the frames' scores.
import type { Manifest } from '@veracity/models';
import { aggregateFrames, type FrameAggregate, pAI, type Probabilities } from '@veracity/protocol/domain';

/**
 * What the extension reads from the bundle that scores its video: how many frames a clip gets and how their scores
 * are combined. The offscreen document sends it from the loaded model's manifest, so a model with other settings
 * (a newer bundle, a network model) is sampled and judged by its own rules, never by a number written here.
 */
export interface VideoSampling {
  frames: number;
  aggregate: FrameAggregate;
}

export function videoSamplingOf(manifest: Pick<Manifest, 'video'>): VideoSampling {
  return { frames: manifest.video.frames, aggregate: manifest.video.aggregate };
}

/** A video's verdict so far, from the scores of the frames taken: the bundle's aggregate over them. */
export function videoVerdict(
  frames: readonly Probabilities[],
  sampling: VideoSampling,
): { probabilities: Probabilities; ai: number } {
  const probabilities = aggregateFrames(frames, sampling.aggregate);
  return { probabilities, ai: pAI(probabilities) };
}

export interface SamplerState {
  frames: number;
  lastSampleAt: number | null;
  lastTime: number | null;
}

export type VideoEvent = { type: 'playing' | 'tick' | 'pause' | 'seeked'; now: number; currentTime: number };

export const initialSampler = (): SamplerState => ({ frames: 0, lastSampleAt: null, lastTime: null });

export function shouldSample(state: SamplerState, e: VideoEvent, intervalMs: number, maxFrames: number): boolean {
  if (state.frames >= maxFrames) return false;
  // The same frame twice says nothing new (a pause right after a sample, or a tick on a stalled video).
  if (state.lastTime !== null && Math.abs(e.currentTime - state.lastTime) < 0.05) return false;
  if (e.type === 'pause' || e.type === 'seeked') return true;
  if (e.type === 'playing') return state.lastSampleAt === null;
  return state.lastSampleAt === null || e.now - state.lastSampleAt >= intervalMs;
}

export function recordSample(state: SamplerState, e: VideoEvent): SamplerState {
  return { frames: state.frames + 1, lastSampleAt: e.now, lastTime: e.currentTime };
}
