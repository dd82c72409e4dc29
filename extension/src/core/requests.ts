// Requests over a long-lived channel (a chrome.runtime Port): each gets an id, a timeout, and exactly one outcome.
// Pure: the platform adapter posts the envelopes and feeds replies and disconnects back in.
import { ExtensionError, ExtensionErrorCode } from './errors.js';
import { type Reply, replyError } from './messages.js';

export interface RequestEnvelope {
  id: number;
  message: unknown;
}

export interface ReplyEnvelope {
  id: number;
  reply: Reply<unknown>;
}

export function isReplyEnvelope(x: unknown): x is ReplyEnvelope {
  const e = x as Partial<ReplyEnvelope> | null;
  return typeof e?.id === 'number' && typeof e.reply === 'object' && e.reply !== null && typeof e.reply.ok === 'boolean';
}

export function isRequestEnvelope(x: unknown): x is RequestEnvelope {
  const e = x as Partial<RequestEnvelope> | null;
  return typeof e?.id === 'number' && Number.isSafeInteger(e.id) && 'message' in (e as object);
}

interface Waiting {
  resolve(value: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  private next = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly timeoutMs: number) {}

  /** A new request: its envelope to post, and the promise of its value (rejected with the reply's code on failure). */
  open<T>(message: unknown): { envelope: RequestEnvelope; result: Promise<T> } {
    const id = this.next++;
    const result = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ExtensionError(ExtensionErrorCode.Timeout, `no reply within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
    return { envelope: { id, message }, result };
  }

  /** A reply arrived; one for an unknown id (timed out already, or not ours) is ignored. */
  settle(envelope: ReplyEnvelope): void {
    const w = this.waiting.get(envelope.id);
    if (!w) return;
    this.waiting.delete(envelope.id);
    clearTimeout(w.timer);
    const r = envelope.reply;
    if (r.ok) w.resolve(r.value);
    else w.reject(replyError(r));
  }

  /** The channel closed (the service worker stopped, the extension reloaded): everything waiting fails with `code`. */
  failAll(code: string, message: string): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new ExtensionError(code, message));
      this.waiting.delete(id);
    }
  }

  get size(): number {
    return this.waiting.size;
  }
}
