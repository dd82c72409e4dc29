import { describe, expect, it } from 'vitest';
import { explain, isGpuLost } from './errors.js';

describe('explain', () => {
  it('turns an unregistered-hotkey close into plain words naming the subnet', () => {
    const e = explain({ closeCode: 4004, message: 'E_UNREGISTERED_HOTKEY: hotkey 5F… is not registered', netuid: 2 });
    expect(e.code).toBe('E_UNREGISTERED_HOTKEY');
    expect(e.title).toBe('Validator refused: this hotkey is not registered on subnet 2.');
    expect(e.action).toMatch(/btcli subnet register --netuid 2/);
    expect(e.detail).toMatch(/^close 4004: E_UNREGISTERED_HOTKEY/);
  });

  it('trusts the code at the start of a close reason over the numeric close code', () => {
    expect(explain({ closeCode: 4002, message: 'E_WRONG_NETWORK: netuid 3, expected 2' }).code).toBe('E_WRONG_NETWORK');
    expect(explain({ closeCode: 4002, message: '' }).code).toBe('E_AUTH_FAILED');
  });

  it('explains every validator close code, the send budget (4011) included', () => {
    for (const closeCode of [4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009, 4010, 4011]) {
      expect(explain({ closeCode }).title, String(closeCode)).not.toBe('');
    }
    expect(explain({ closeCode: 4011 }).title).toMatch(/stopped reading/);
  });

  it('maps network failures, model errors and a lost GPU', () => {
    expect(explain({ closeCode: 1006 }).title).toBe('Cannot reach the validator.');
    expect(explain({ code: 'E_SHA256_MISMATCH', message: 'x' }).title).toMatch(/does not match its published sha256/);
    expect(explain({ code: 'E_INFERENCE', message: 'webgpu inference failed: Device was lost' }).code).toBe('E_GPU_LOST');
    expect(isGpuLost('GPUDevice lost: destroyed')).toBe(true);
    expect(isGpuLost('out of memory')).toBe(false);
  });

  it('explains a reveal that does not open its commitment as a validator scoring dishonestly', () => {
    const e = explain({ code: 'E_REVEAL_MISMATCH', message: '1 revealed label(s) in w-3 do not match' });
    expect(e.title).toMatch(/do not match what it committed to/);
    expect(e.detail).toContain('w-3');
  });

  it('falls back to the raw message for codes it does not know', () => {
    expect(explain({ code: 'E_FROM_THE_FUTURE', message: 'new thing' })).toMatchObject({
      code: 'E_FROM_THE_FUTURE',
      title: 'new thing',
    });
  });
});
