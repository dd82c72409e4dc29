import { describe, expect, it } from 'vitest';
import { cachePartition, parseScanRequest, parseToBackground, partitionedKey } from './messages.js';
import { ScoringQueue } from './queue.js';

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

  it('network messages: a check on demand, and download progress validated field by field', () => {
    expect(parseToBackground({ type: 'network-check', extra: 1 })).toEqual({ type: 'network-check' });
    expect(
      parseToBackground({ type: 'network-progress', progress: { stage: 'download', file: 'model.onnx', loaded: 5, total: 9 } }),
    ).toEqual({
      type: 'network-progress',
      progress: { stage: 'download', file: 'model.onnx', loaded: 5, total: 9 },
    });
    for (const progress of [
      null,
      { stage: 'upload', loaded: 1 },
      { stage: 'verify', loaded: -1 },
      { stage: 'verify', loaded: 1, total: 'x' },
    ]) {
      expect(() => parseToBackground({ type: 'network-progress', progress }), JSON.stringify(progress)).toThrow(
        expect.objectContaining({ code: 'E_MESSAGE_INVALID' }),
      );
    }
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

  it('passes the questions without a payload through, extra fields dropped', () => {
    expect(parseToBackground({ type: 'video-sampling', frames: 99 })).toEqual({ type: 'video-sampling' });
    expect(parseToBackground({ type: 'engine-status' })).toEqual({ type: 'engine-status' });
  });
});

describe('the result cache partition', () => {
  it('is the origin of the top-level page: two sites never share a result', () => {
    expect(cachePartition('https://news.example/a/b?c')).toBe('https://news.example');
    expect(cachePartition('http://127.0.0.1:8080/x.html')).toBe('http://127.0.0.1:8080');
    expect(cachePartition('http://localhost:8080/x.html')).not.toBe(cachePartition('http://127.0.0.1:8080/x.html'));
    expect(cachePartition('file:///tmp/x.html')).toBe('file:opaque');
    expect(cachePartition(undefined)).toBe('unknown:');
  });
  it('keys the queue, so the same image scanned for two sites is scored for each and cached apart', async () => {
    let scored = 0;
    const queue = new ScoringQueue<{ site: string; url: string }, string>({
      keyOf: (j) => partitionedKey(j.site, j.url),
      async process(jobs) {
        scored += jobs.length;
        return jobs.map((j) => `${j.url} for ${j.site}`);
      },
    });
    const url = 'https://cdn.example/p.jpg';
    const a = cachePartition('https://a.example/');
    const b = cachePartition('https://b.example/');
    expect(await queue.submit({ site: a, url })).toBe(`${url} for ${a}`);
    expect(await queue.submit({ site: b, url })).toBe(`${url} for ${b}`);
    expect(await queue.submit({ site: a, url })).toBe(`${url} for ${a}`);
    expect(scored).toBe(2);
    expect(queue.stats.cacheHits).toBe(1);
  });
});

describe('report messages', () => {
  it('are validated like scans: a bad report is refused with E_REPORT_INVALID', () => {
    expect(() => parseToBackground({ type: 'report', report: { url: 'x' } })).toThrow(/E_REPORT_INVALID/);
  });
});
