// When to take a frame from a <video>: every `intervalMs` of playback while it plays, and once when it pauses,
// up to `maxFrames` (the bundle's video.frames). Pure: the video collector feeds it events and the clock.

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
