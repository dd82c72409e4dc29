import { describe, expect, it } from 'vitest';
import { parseScanRequest, parseToBackground } from './messages.js';

describe('messages', () => {
  it('accepts the three sources a content script may send', () => {
    expect(parseScanRequest({ key: 'k', kind: 'image', source: { type: 'url', url: 'https://a.org/x.jpg' } }).source.type).toBe(
      'url',
    );
    expect(
      parseScanRequest({
        key: 'k',
        kind: 'video',
        source: { type: 'pixels', dataUrl: 'data:image/png;base64,AA' },
        cache: false,
      }),
    ).toEqual({ key: 'k', kind: 'video', source: { type: 'pixels', dataUrl: 'data:image/png;base64,AA' }, cache: false });
    expect(
      parseScanRequest({
        key: 'k',
        kind: 'video',
        source: { type: 'capture', rect: { x: 0, y: 0, width: 10, height: 10 }, dpr: 1 },
      }).source.type,
    ).toBe('capture');
  });

  it('refuses malformed messages with E_MESSAGE_INVALID', () => {
    const bad = [
      null,
      { type: 'nope' },
      { type: 'scan' },
      { type: 'scan', request: { key: '', kind: 'image', source: { type: 'url', url: 'https://a' } } },
      { type: 'scan', request: { key: 'k', kind: 'audio', source: { type: 'url', url: 'https://a' } } },
      { type: 'scan', request: { key: 'k', kind: 'image', source: { type: 'url', url: 'file:///etc/passwd' } } },
      { type: 'scan', request: { key: 'k', kind: 'image', source: { type: 'pixels', dataUrl: 'javascript:1' } } },
      {
        type: 'scan',
        request: { key: 'k', kind: 'image', source: { type: 'screenshot', dataUrl: 'data:image/png;base64,', rect: {}, dpr: 1 } },
      },
      {
        type: 'scan',
        request: { key: 'k', kind: 'video', source: { type: 'capture', rect: { x: 0, y: 0, width: 0, height: 5 }, dpr: 1 } },
      },
    ];
    for (const m of bad) expect(() => parseToBackground(m), JSON.stringify(m)).toThrow(/E_MESSAGE_INVALID/);
  });
});
