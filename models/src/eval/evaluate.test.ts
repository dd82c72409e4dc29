import { describe, expect, it } from 'vitest';
import { evaluationReport, formatReport, groupedReport } from './evaluate.js';

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

  it('adds a video table when clips were scored', () => {
    const video = {
      ...groupedReport(
        [
          { group: 'clips', y: 1, p: 0.7 },
          { group: 'clips', y: 0, p: 0.4 },
        ],
        [300, 500],
      ),
      frames: 8,
    };
    const r = evaluationReport([{ group: 'a', y: 0, p: 0.1 }], [1], [], video);
    expect(r.videos?.overall.auc).toBe(1);
    expect(r.videos?.latency_ms.p50).toBe(400);
    expect(formatReport(r)).toMatch(
      /group \(images\)[\s\S]*group \(videos, 8 frames\).*\n\s*clips\s+2[\s\S]*latency per clip: p50 400\.0 ms/,
    );
    expect(formatReport(evaluationReport([{ group: 'a', y: 0, p: 0.1 }], [1], []))).not.toMatch(/videos/);
    const clipsOnly = formatReport(evaluationReport([], [], ['x.mp4'], video));
    expect(clipsOnly).not.toMatch(/images|latency per image/);
    expect(clipsOnly).toMatch(/^unreadable: 1\n\ngroup \(videos, 8 frames\)/);
  });

  it("reports real flagged and AI caught at 0.5 and at the bundle's operating point", () => {
    const scored = [
      { group: 'photos', y: 0 as const, p: 0.6 },
      { group: 'photos', y: 0 as const, p: 0.2 },
      { group: 'gen', y: 1 as const, p: 0.9 },
      { group: 'gen', y: 1 as const, p: 0.7 },
    ];
    const r = evaluationReport(scored, [1], [], undefined, 0.8);
    expect(r.flagged.atDefault).toEqual({ threshold: 0.5, fpr: 0.5, tpr: 1, nReal: 2, nAi: 2 });
    expect(r.flagged.atOperatingPoint).toEqual({ threshold: 0.8, fpr: 0, tpr: 0.5, nReal: 2, nAi: 2 });
    expect(formatReport(r)).toMatch(
      /at 0\.5: +real flagged 50\.0% \(1 of 2\), AI caught 100\.0% \(2 of 2\)\n +at the bundle's operating point 0\.8: +real flagged 0\.0% \(0 of 2\), AI caught 50\.0% \(1 of 2\)/,
    );
    const none = evaluationReport(scored, [1], []);
    expect(none.flagged.atOperatingPoint).toBeNull();
    expect(formatReport(none)).toMatch(/names no operating point/);
  });
});
