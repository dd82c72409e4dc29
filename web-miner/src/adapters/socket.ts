/** The browser WebSocket behind the session's SocketLike (the only place the page touches WebSocket). */
import type { Dial } from '@veracity/miner';
import { ABNORMAL_CLOSURE } from '../core/errors.js';

export const browserDial: Dial = (url, handlers) => {
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch (e) {
    // A malformed URL throws synchronously; report it as a failed connection so the session backs off as usual.
    queueMicrotask(() => handlers.onClose(ABNORMAL_CLOSURE, e instanceof Error ? e.message : String(e)));
    return { send: () => undefined, close: () => undefined };
  }
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => handlers.onOpen();
  ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) =>
    handlers.onMessage(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data));
  ws.onclose = (ev) => handlers.onClose(ev.code, ev.reason);
  return {
    send: (data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch {
        // Browsers refuse close codes outside 1000 and 3000-4999; the code is only informative to the peer.
        ws.close();
      }
    },
  };
};
