import { describe, expect, it } from 'vitest';
import { ChainTxError, isTransportError, retryTransport, TransportError } from './tx.js';

describe('isTransportError', () => {
  it('tells connection failures from chain verdicts', () => {
    expect(isTransportError(new Error('WebSocket is not connected'))).toBe(true);
    expect(isTransportError(new Error('No response received from RPC endpoint in 60s'))).toBe(true);
    expect(isTransportError(new Error('connect ECONNREFUSED 127.0.0.1:9944'))).toBe(true);
    expect(isTransportError(new TransportError('x'))).toBe(true);
    expect(isTransportError(new Error('1010: Invalid Transaction: Custom error: 1'))).toBe(false);
    expect(isTransportError(new Error('1010: {"invalid":{"custom":1}}'))).toBe(false);
    expect(isTransportError(new ChainTxError('WebSocket-looking but a chain error', 'X', null))).toBe(false);
    expect(isTransportError(new Error('SubtensorModule.SettingWeightsTooFast'))).toBe(false);
  });
});

describe('retryTransport', () => {
  it('retries transport errors with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const out = await retryTransport(
      async () => {
        calls++;
        if (calls < 3) throw new Error('WebSocket is not connected');
        return 'ok';
      },
      { baseMs: 100, random: () => 0.5, sleep: async (ms) => void delays.push(ms) },
    );
    expect(out).toBe('ok');
    // Full jitter: half of the ceiling (100 ms, then 200 ms) with random() = 0.5.
    expect(delays).toEqual([50, 100]);
  });

  it('does not retry a chain verdict', async () => {
    let calls = 0;
    await expect(
      retryTransport(
        async () => {
          calls++;
          throw new ChainTxError('SubtensorModule.SettingWeightsTooFast', 'SettingWeightsTooFast', null);
        },
        { sleep: async () => undefined },
      ),
    ).rejects.toThrow(/TooFast/);
    expect(calls).toBe(1);
  });

  it('gives up after `retries` and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      retryTransport(
        async () => {
          calls++;
          throw new TransportError(`down ${calls}`);
        },
        { retries: 2, sleep: async () => undefined },
      ),
    ).rejects.toThrow('down 3');
    expect(calls).toBe(3);
  });
});
