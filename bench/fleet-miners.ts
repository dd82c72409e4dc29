// Child process for bench/validator.ts: N lightweight miners (no model: they answer with fixed probabilities at
// once), so the benchmark measures the validator, not inference.
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { decodeText, encode, PROTOCOL_VERSION, signAuth } from '@veracity/protocol';
import { WebSocket } from 'ws';

const [url, count] = [process.argv[2]!, Number(process.argv[3])];
await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519' });
let connected = 0;
for (let i = 0; i < count; i++) {
  const pair = keyring.addFromUri(`//Fleet${i}`);
  const ws = new WebSocket(url);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = decodeText(data.toString());
    if (!m.ok) return;
    const msg = m.message;
    if (msg.type === 'hello') ws.send(encode(signAuth(pair, msg, Date.now())));
    else if (msg.type === 'welcome' && ++connected === count) process.stdout.write('ready\n');
    else if (msg.type === 'challenge')
      ws.send(encode({ v: PROTOCOL_VERSION, type: 'answer', id: msg.id, probabilities: [0.5, 0.3, 0.2] }));
    else if (msg.type === 'ping') ws.send(encode({ v: PROTOCOL_VERSION, type: 'pong', seq: msg.seq, t: msg.t }));
  });
  ws.on('error', () => undefined);
  // Pace the dial-in so the handshake storm measures steady state rather than SYN backlog limits.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
