import { type BinaryReport, binaryReport, percentile } from '../core/metrics.js';

export interface Scored {
  group: string;
  /** 1 AI, 0 real. */
  y: 0 | 1;
  /** Predicted P(AI). */
  p: number;
}

export interface GroupedReport {
  overall: BinaryReport;
  groups: Record<string, BinaryReport>;
  latency_ms: { p50: number; p95: number };
}

/** Clips, scored apart from images (one score per clip from `frames` frames; latency per clip). */
export interface VideoReport extends GroupedReport {
  frames: number;
}

export interface EvaluationReport extends GroupedReport {
  unreadable: string[];
  videos?: VideoReport;
}

/** Overall and per-group binary metrics; a group with one class gets AUC/MCC per their conventions (NaN / 0). */
export function groupedReport(scored: Scored[], latencies: number[]): GroupedReport {
  const report = (items: Scored[]) =>
    binaryReport(
      items.map((s) => s.y),
      items.map((s) => s.p),
    );
  const byGroup = new Map<string, Scored[]>();
  for (const s of scored) byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), s]);
  return {
    overall: report(scored),
    groups: Object.fromEntries([...byGroup.keys()].sort().map((g) => [g, report(byGroup.get(g) ?? [])])),
    latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
  };
}

export function evaluationReport(
  scored: Scored[],
  latencies: number[],
  unreadable: string[],
  videos?: VideoReport,
): EvaluationReport {
  return { ...groupedReport(scored, latencies), unreadable, ...(videos ? { videos } : {}) };
}

/** A fixed-width table for terminals. */
export function formatReport(r: EvaluationReport): string {
  const num = (v: number, w = 7) => (Number.isNaN(v) ? '-' : v.toFixed(3)).padStart(w);
  const line = (name: string, m: BinaryReport) =>
    `${name.padEnd(32)}${String(m.n).padStart(6)}${num(m.auc)}${num(m.accuracy)}${num(m.mcc)}${num(m.brier)}${num(m.crossEntropy)}${num(m.sn34)}`;
  const table = (g: GroupedReport, unit: string) => [
    `${unit.padEnd(32)}${'n'.padStart(6)}${'AUC'.padStart(7)}${'acc'.padStart(7)}${'MCC'.padStart(7)}${'Brier'.padStart(7)}${'CE'.padStart(7)}${'sn34'.padStart(7)}`,
    ...Object.entries(g.groups).map(([name, m]) => line(name, m)),
    line('OVERALL', g.overall),
  ];
  const v = r.videos;
  // A clips-only set prints no empty image table.
  const images = r.overall.n > 0 || !v;
  return [
    ...(images ? table(r, 'group (images)') : []),
    `${images ? `latency per image: p50 ${r.latency_ms.p50.toFixed(1)} ms, p95 ${r.latency_ms.p95.toFixed(1)} ms; ` : ''}unreadable: ${r.unreadable.length}`,
    ...(v
      ? [
          '',
          ...table(v, `group (videos, ${v.frames} frames)`),
          `latency per clip: p50 ${v.latency_ms.p50.toFixed(1)} ms, p95 ${v.latency_ms.p95.toFixed(1)} ms`,
        ]
      : []),
  ].join('\n');
}
