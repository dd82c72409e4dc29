import { describe, expect, it } from 'vitest';
import {
  ChallengeAssembler,
  type ChallengeMessage,
  DEFAULT_LIMITS,
  ErrorCode,
  type MediaFrame,
  type MediaMime,
  type Modality,
} from './index.js';

const T = 1767225600000;
const challenge = (id: string, frames = 1, modality: Modality = frames > 1 ? 'video' : 'image'): ChallengeMessage => ({
  v: 2,
  type: 'challenge',
  id,
  modality,
  frames,
  deadlineMs: T + 12_000,
  timeoutMs: 10_000,
  commitment: '0'.repeat(64),
});
const media = (challengeId: string, index: number, count: number, mime: MediaMime = 'image/jpeg', size = 3): MediaFrame => ({
  header: { v: 2, type: 'media', challengeId, index, count, mime },
  data: new Uint8Array(size).fill(index + 1),
});

describe('ChallengeAssembler', () => {
  it('completes an image challenge with its one frame, deadline from arrival + timeoutMs', () => {
    const a = new ChallengeAssembler();
    expect(a.challenge(challenge('c1'), T + 500)).toEqual({ status: 'pending', id: 'c1', missing: 1 });
    expect(a.waitingFor).toBe('c1');
    const done = a.media(media('c1', 0, 1));
    expect(done).toMatchObject({
      status: 'complete',
      challenge: { id: 'c1', modality: 'image', mimes: ['image/jpeg'], deadlineMs: T + 12_000, deadline: T + 10_500 },
    });
    expect(a.waitingFor).toBeUndefined();
  });

  it('completes a 16-frame video challenge in order', () => {
    const a = new ChallengeAssembler();
    a.challenge(challenge('v1', 16), T);
    for (let i = 0; i < 15; i++) expect(a.media(media('v1', i, 16))).toEqual({ status: 'pending', id: 'v1', missing: 15 - i });
    const done = a.media(media('v1', 15, 16));
    expect(done.status).toBe('complete');
    if (done.status === 'complete')
      expect(done.challenge.media.map((m) => m[0])).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('accepts one whole clip for a video challenge', () => {
    const a = new ChallengeAssembler();
    a.challenge(challenge('v2', 1, 'video'), T);
    expect(a.media(media('v2', 0, 1, 'video/mp4')).status).toBe('complete');
  });

  const errorOf = (steps: (a: ChallengeAssembler) => unknown) => {
    const a = new ChallengeAssembler({ ...DEFAULT_LIMITS, maxMediaBytes: 10 });
    const last = steps(a) as ReturnType<ChallengeAssembler['media']>;
    return last.status === 'error' ? last.error.code : last.status;
  };

  it.each([
    [
      'a frame out of order',
      (a: ChallengeAssembler) => (a.challenge(challenge('c', 3), T), a.media(media('c', 1, 3))),
      ErrorCode.FrameOrder,
    ],
    [
      'a repeated index',
      (a: ChallengeAssembler) => (a.challenge(challenge('c', 3), T), a.media(media('c', 0, 3)), a.media(media('c', 0, 3))),
      ErrorCode.FrameOrder,
    ],
    ['media with no challenge', (a: ChallengeAssembler) => a.media(media('c', 0, 1)), ErrorCode.UnknownChallenge],
    [
      'media for another challenge id',
      (a: ChallengeAssembler) => (a.challenge(challenge('c'), T), a.media(media('d', 0, 1))),
      ErrorCode.UnknownChallenge,
    ],
    [
      'a frame beyond the announced count',
      (a: ChallengeAssembler) => (a.challenge(challenge('c'), T), a.media(media('c', 0, 1)), a.media(media('c', 1, 2))),
      ErrorCode.TooManyFrames,
    ],
    [
      'a challenge announcing too many frames',
      (a: ChallengeAssembler) => a.challenge(challenge('c', 17), T),
      ErrorCode.TooManyFrames,
    ],
    [
      'a count that disagrees with the challenge',
      (a: ChallengeAssembler) => (a.challenge(challenge('c', 2), T), a.media(media('c', 0, 3))),
      ErrorCode.BadFrame,
    ],
    [
      'a video payload in an image challenge',
      (a: ChallengeAssembler) => (a.challenge(challenge('c'), T), a.media(media('c', 0, 1, 'video/mp4'))),
      ErrorCode.BadFrame,
    ],
    [
      'a payload over the limit',
      (a: ChallengeAssembler) => (a.challenge(challenge('c'), T), a.media(media('c', 0, 1, 'image/png', 11))),
      ErrorCode.TooLarge,
    ],
    [
      'a new challenge before the previous one has its media',
      (a: ChallengeAssembler) => (a.challenge(challenge('c', 2), T), a.media(media('c', 0, 2)), a.challenge(challenge('d'), T)),
      ErrorCode.FrameOrder,
    ],
    [
      'a reused challenge id',
      (a: ChallengeAssembler) => (a.challenge(challenge('c'), T), a.media(media('c', 0, 1)), a.challenge(challenge('c'), T)),
      ErrorCode.DuplicateChallenge,
    ],
  ])('refuses %s', (_name, steps, code) => {
    expect(errorOf(steps)).toBe(code);
  });

  it('reset() drops a half-received challenge (the caller timed it out) and the next one works', () => {
    const a = new ChallengeAssembler();
    a.challenge(challenge('c', 2), T);
    a.media(media('c', 0, 2));
    a.reset();
    expect(a.waitingFor).toBeUndefined();
    a.challenge(challenge('d'), T);
    expect(a.media(media('d', 0, 1)).status).toBe('complete');
  });

  it('after an error it is usable again (a caller that chooses not to close)', () => {
    const a = new ChallengeAssembler();
    a.challenge(challenge('c', 2), T);
    expect(a.media(media('c', 1, 2)).status).toBe('error');
    a.challenge(challenge('e'), T);
    expect(a.media(media('e', 0, 1)).status).toBe('complete');
  });
});
