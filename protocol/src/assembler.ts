import type { MediaFrame } from './codec.js';
import { ErrorCode, type ProtocolError } from './errors.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { type Modality, MODALITIES } from './domain.js';
import type { ChallengeMessage, MediaMime } from './messages.js';

/** A challenge with all of its media, ready for the model. */
export interface CompleteChallenge {
  id: string;
  modality: Modality;
  /** The payloads in index order (views into the received frames, not copies). */
  media: Uint8Array[];
  mimes: MediaMime[];
  /** The validator's absolute deadline, on its clock. */
  deadlineMs: number;
  /**
   * The deadline on the miner's clock: when the challenge arrived + timeoutMs. Miners should use this one, since
   * their clock may be off by up to the handshake's skew window, which is larger than many challenge budgets.
   */
  deadline: number;
}

export type AssemblerEvent =
  | { status: 'pending'; id: string; missing: number }
  | { status: 'complete'; challenge: CompleteChallenge }
  | { status: 'error'; error: ProtocolError };

interface Pending {
  message: ChallengeMessage;
  receivedAt: number;
  media: Uint8Array[];
  mimes: MediaMime[];
}

/** Enough ids to catch a validator that reuses one, bounded so a long session does not grow without limit. */
const RECENT_IDS = 256;

/**
 * Collects a `challenge` and the binary media frames that follow it. Pure and clock-free: the caller passes the
 * arrival time and enforces the deadline (answering or giving up is its policy, not the protocol's).
 *
 * The rule it enforces is the simplest one a miner in any language can also implement: a challenge's media frames
 * follow it in index order, before the next challenge. Text control messages (ping, result, error) may come in
 * between; another challenge may not. Any error means the validator broke the protocol: close with 4000.
 */
export class ChallengeAssembler {
  private pending: Pending | undefined;
  private readonly recent: string[] = [];
  private readonly limits: Limits;

  constructor(limits: Limits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** The challenge still waiting for media, if any. */
  get waitingFor(): string | undefined {
    return this.pending?.message.id;
  }

  challenge(message: ChallengeMessage, receivedAt: number): AssemblerEvent {
    if (this.pending !== undefined) {
      const { message: prev, media } = this.pending;
      this.pending = undefined;
      return this.error(
        ErrorCode.FrameOrder,
        `challenge ${message.id} arrived while challenge ${prev.id} still lacked ${prev.frames - media.length} of ${prev.frames} media frames`,
      );
    }
    if (this.recent.includes(message.id))
      return this.error(ErrorCode.DuplicateChallenge, `challenge id ${message.id} was already used`);
    if (message.frames < 1 || message.frames > this.limits.maxFrames) {
      return this.error(
        ErrorCode.TooManyFrames,
        `challenge ${message.id} announces ${message.frames} frames (limit ${this.limits.maxFrames})`,
      );
    }
    this.remember(message.id);
    this.pending = { message, receivedAt, media: [], mimes: [] };
    return { status: 'pending', id: message.id, missing: message.frames };
  }

  media(frame: MediaFrame): AssemblerEvent {
    const { challengeId, index, count, mime } = frame.header;
    const pending = this.pending;
    if (pending === undefined || pending.message.id !== challengeId) {
      if (pending === undefined && this.recent.at(-1) === challengeId) {
        return this.error(ErrorCode.TooManyFrames, `challenge ${challengeId} already has all of its frames; got index ${index}`);
      }
      this.pending = undefined;
      return this.error(
        ErrorCode.UnknownChallenge,
        `media for challenge ${challengeId}, but ${pending === undefined ? 'no challenge is waiting for media' : `challenge ${pending.message.id} is`}`,
      );
    }
    const challenge = pending.message;
    let problem: [ErrorCode, string] | undefined;
    if (count !== challenge.frames)
      problem = [ErrorCode.BadFrame, `media count ${count} disagrees with the challenge's ${challenge.frames} frames`];
    else if (index !== pending.media.length)
      problem = [ErrorCode.FrameOrder, `expected media index ${pending.media.length}, got ${index}`];
    else if (MODALITIES[challenge.modality].frames === 'one' && !mime.startsWith('image/'))
      problem = [ErrorCode.BadFrame, `an ${challenge.modality} challenge cannot carry ${mime}`];
    else if (frame.data.length > this.limits.maxMediaBytes)
      problem = [ErrorCode.TooLarge, `media of ${frame.data.length} bytes exceeds ${this.limits.maxMediaBytes}`];
    if (problem !== undefined) {
      this.pending = undefined;
      return this.error(problem[0], `challenge ${challengeId}: ${problem[1]}`);
    }
    pending.media.push(frame.data);
    pending.mimes.push(mime);
    if (pending.media.length < challenge.frames) {
      return { status: 'pending', id: challenge.id, missing: challenge.frames - pending.media.length };
    }
    this.pending = undefined;
    return {
      status: 'complete',
      challenge: {
        id: challenge.id,
        modality: challenge.modality,
        media: pending.media,
        mimes: pending.mimes,
        deadlineMs: challenge.deadlineMs,
        deadline: pending.receivedAt + challenge.timeoutMs,
      },
    };
  }

  /** Forgets the challenge waiting for media (the caller's timeout fired, or the connection is being reset). */
  reset(): void {
    this.pending = undefined;
  }

  private remember(id: string): void {
    this.recent.push(id);
    if (this.recent.length > RECENT_IDS) this.recent.shift();
  }

  private error(code: ErrorCode, message: string): AssemblerEvent {
    return { status: 'error', error: { code, message } };
  }
}
