/**
 * A bare protocol client for tests and the fuzz script: real WebSocket, real sr25519 handshake, and direct access to
 * every frame, so a test can send exactly the (malformed) bytes it means to and see exactly what comes back.
 */
import { decodeText, encode, type Message, PROTOCOL_VERSION, type Signer, signAuth } from '@veracity/protocol';
import { WebSocket } from 'ws';

export class RawMiner {
  readonly inbox: Message[] = [];
  closed?: { code: number; reason: string };
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = decodeText(data.toString());
      if (m.ok) this.inbox.push(m.message);
      this.wakeAll();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wakeAll();
    });
    ws.on('error', () => undefined);
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Dials `url`; with a signer, answers the hello and resolves after `welcome` (or the close that refused it). */
  static async connect(url: string, opts: { signer?: Signer; localAddress?: string } = {}): Promise<RawMiner> {
    const m = new RawMiner(new WebSocket(url, opts.localAddress ? { localAddress: opts.localAddress } : {}));
    const hello = await m.next((x) => x.type === 'hello', 10_000).catch(() => undefined);
    if (hello?.type === 'hello' && opts.signer) {
      m.send(encode(signAuth(opts.signer, hello, Date.now())));
      await m.next((x) => x.type === 'welcome', 10_000).catch(() => undefined);
    }
    return m;
  }

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** The first message (from the start of the inbox) matching `pred`, removed from the inbox; waits up to `ms`. */
  async next<T extends Message>(pred: (m: Message) => m is T, ms?: number): Promise<T>;
  async next(pred: (m: Message) => boolean, ms?: number): Promise<Message>;
  async next(pred: (m: Message) => boolean, ms = 10_000): Promise<Message> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`closed ${this.closed.code} ${this.closed.reason} while waiting`);
      const left = end - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, left);
        this.waiters.push(() => {
          clearTimeout(t);
          ok();
        });
      });
    }
  }

  /** Resolves with the close code and reason (waits up to `ms`). */
  async closeEvent(ms = 10_000): Promise<{ code: number; reason: string }> {
    const end = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('timed out waiting for the close');
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          ok();
        });
      });
    }
    return this.closed;
  }

  /** Sends a ping and waits for its pong: every frame sent before it has been read and handled by the validator. */
  async roundTrip(seq: number, ms = 10_000): Promise<void> {
    this.send(encode({ v: PROTOCOL_VERSION, type: 'ping', seq, t: Date.now() }));
    await this.next((m) => m.type === 'pong' && m.seq === seq, ms);
  }

  close(): void {
    this.ws.terminate();
  }
}
