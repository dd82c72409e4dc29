import { describe, expect, it } from 'vitest';
import { evaluationReport, formatReport } from './evaluate.js';

describe('evaluation report', () => {
  it('splits metrics by group and keeps unreadable files', () => {
    const r = evaluationReport(
      [
        { group: 'a', y: 0, p: 0.1 },
        { group: 'a', y: 1, p: 0.9 },
        { group: 'b', y: 1, p: 0.2 },
        { group: 'b', y: 1, p: 0.8 },
      ],
      [1, 2, 3, 4],
      ['bad.jpg'],
    );
    expect(r.overall.n).toBe(4);
    expect(r.groups.a?.auc).toBe(1);
    expect(r.groups.a?.accuracy).toBe(1);
    expect(r.groups.b?.auc).toBeNaN();
    expect(r.groups.b?.accuracy).toBe(0.5);
    expect(r.latency_ms.p50).toBe(2.5);
    expect(r.unreadable).toEqual(['bad.jpg']);
    expect(formatReport(r)).toMatch(/OVERALL\s+4/);
  });
});
