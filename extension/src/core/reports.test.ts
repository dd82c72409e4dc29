import { describe, expect, it } from 'vitest';
import { appendReport, exportReports, makeReceipt, parseReportInput, readReports, type ReportInput } from './reports.js';

const SHA = 'a'.repeat(64);
const input: ReportInput = {
  url: 'https://cdn.example/p.jpg',
  kind: 'image',
  sha256: SHA,
  frames: 1,
  probabilities: [0.2, 0.5, 0.3],
  verdict: 'ai',
  threshold: 0.8593,
  thresholdSource: 'model',
  model: { id: 'veracity-detector', version: '1.6.0', sha256: 'b'.repeat(64) },
  backend: 'wasm',
  scoredAt: Date.UTC(2026, 11, 3, 12, 0, 0),
};

describe('verdict receipts', () => {
  it('keep what was scored, by what, what it said, when, and on which site', () => {
    const r = makeReceipt(parseReportInput(input), 'news.example', Date.UTC(2026, 11, 3, 12, 5, 0));
    expect(r).toEqual({
      schema: 1,
      reportedAt: '2026-12-03T12:05:00.000Z',
      site: 'news.example',
      media: { url: input.url, kind: 'image', sha256: SHA, frames: 1 },
      bundle: input.model,
      probabilities: [0.2, 0.5, 0.3],
      ai: 0.8,
      verdict: 'ai',
      threshold: 0.8593,
      thresholdSource: 'model',
      backend: 'wasm',
      scoredAt: '2026-12-03T12:00:00.000Z',
    });
  });
  it('carry the network model when one scored it: the miner uid, incentive, hotkey and bundle id', () => {
    const network = { uid: 2, incentive: 0.77, hotkey: '0x' + 'c'.repeat(64), bundle: 'd'.repeat(64) };
    const r = makeReceipt(parseReportInput({ ...input, model: { ...input.model, network } }), 'news.example', Date.now());
    expect(r.bundle).toEqual({ ...input.model, network });
    expect(() => parseReportInput({ ...input, model: { ...input.model, network: { ...network, uid: -1 } } })).toThrow(
      /network\.uid/,
    );
    expect(() => parseReportInput({ ...input, model: { ...input.model, network: { ...network, hotkey: 'x' } } })).toThrow(
      /hotkey/,
    );
  });

  it('refuse a malformed report with E_REPORT_INVALID, naming the field', () => {
    expect(() => parseReportInput(null)).toThrow(/E_REPORT_INVALID/);
    expect(() => parseReportInput({ ...input, sha256: 'xyz' })).toThrow(/sha256/);
    expect(() => parseReportInput({ ...input, probabilities: [0.5, 0.5] })).toThrow(/probabilities/);
    expect(() => parseReportInput({ ...input, probabilities: [0.5, Number.NaN, 0] })).toThrow(/probabilities/);
    expect(() => parseReportInput({ ...input, model: { id: 'x', version: '1' } })).toThrow(/model/);
    expect(() => parseReportInput({ ...input, kind: 'audio' })).toThrow(/kind/);
    expect(() => parseReportInput({ ...input, frames: 0 })).toThrow(/frames/);
    expect(() => parseReportInput({ ...input, thresholdSource: 'theirs' })).toThrow(/thresholdSource must be one of yours/);
  });
  it('are kept once per media, bundle and site, newest last, up to a maximum', () => {
    const at = (n: number, sha = SHA) => makeReceipt({ ...input, sha256: sha }, 'a.example', n);
    let list = appendReport([], at(1));
    list = appendReport(list, at(2));
    expect(list).toHaveLength(1);
    expect(list[0]!.reportedAt).toBe(new Date(2).toISOString());
    for (let i = 0; i < 5; i++) list = appendReport(list, at(10 + i, i.toString(16).repeat(64)), 3);
    expect(list).toHaveLength(3);
    expect(list.map((r) => r.media.sha256[0])).toEqual(['2', '3', '4']);
  });
  it('read back from storage drops what is not a receipt, and export as one JSON file', () => {
    const r = makeReceipt(input, 'a.example', 5);
    expect(readReports([r, { schema: 2 }, 'x', null])).toEqual([r]);
    expect(readReports(undefined)).toEqual([]);
    const out = exportReports([r], Date.UTC(2026, 11, 3, 12, 5, 7));
    expect(out.name).toBe('veracity-reports-2026-12-03-12-05-07.json');
    expect(JSON.parse(out.json)).toEqual({ exported: '2026-12-03T12:05:07.000Z', reports: [r] });
  });
});
