import { DEFAULT_THRESHOLD } from '@veracity/protocol/domain';
import { type BinaryReport, binaryReport, type FlagRates, flagRates, percentile } from '../core/metrics.js';

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
  /**
   * Real items flagged and AI items caught at DEFAULT_THRESHOLD (0.5, where accuracy, MCC and sn34 are taken) and at
   * the bundle's operating point (manifest calibration.threshold: the threshold its verdicts use), when it names one.
   */
  flagged: { atDefault: FlagRates; atOperatingPoint: FlagRates | null };
}

/** Clips, scored apart from images (one score per clip from `frames` frames; latency per clip). */
export interface VideoReport extends GroupedReport {
  frames: number;
}

export interface EvaluationReport extends GroupedReport {
  unreadable: string[];
  videos?: VideoReport;
}

/**
 * Overall and per-group binary metrics; a group with one class gets AUC/MCC per their conventions (NaN / 0).
 * `operatingPoint`: the bundle's calibration.threshold, if it names one.
 */
export function groupedReport(scored: Scored[], latencies: number[], operatingPoint?: number): GroupedReport {
  const report = (items: Scored[]) =>
    binaryReport(
      items.map((s) => s.y),
      items.map((s) => s.p),
    );
  const y = scored.map((s) => s.y);
  const p = scored.map((s) => s.p);
  const byGroup = new Map<string, Scored[]>();
  for (const s of scored) byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), s]);
  return {
    overall: report(scored),
    groups: Object.fromEntries([...byGroup.keys()].sort().map((g) => [g, report(byGroup.get(g) ?? [])])),
    latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    flagged: {
      atDefault: flagRates(y, p, DEFAULT_THRESHOLD),
      atOperatingPoint: operatingPoint === undefined ? null : flagRates(y, p, operatingPoint),
    },
  };
}

export function evaluationReport(
  scored: Scored[],
  latencies: number[],
  unreadable: string[],
  videos?: VideoReport,
  operatingPoint?: number,
): EvaluationReport {
  return { ...groupedReport(scored, latencies, operatingPoint), unreadable, ...(videos ? { videos } : {}) };
}

/** "real flagged 29.4% (486 of 1653), AI caught 69.6% (297 of 427)" at one threshold. */
function flaggedLine(label: string, r: FlagRates): string {
  const pct = (share: number, n: number) => (n === 0 ? '-' : `${(share * 100).toFixed(1)}% (${Math.round(share * n)} of ${n})`);
  return `  ${`${label}:`.padEnd(44)} real flagged ${pct(r.fpr, r.nReal)}, AI caught ${pct(r.tpr, r.nAi)}`;
}

/** The verdict's trade at 0.5 and at the bundle's operating point, for one table. */
function flaggedLines(g: GroupedReport): string[] {
  const op = g.flagged.atOperatingPoint;
  return [
    'verdicts (P(AI) >= threshold):',
    flaggedLine(`at ${g.flagged.atDefault.threshold}`, g.flagged.atDefault),
    op
      ? flaggedLine(`at the bundle's operating point ${op.threshold}`, op)
      : '  the bundle names no operating point (calibration.threshold): its verdicts use 0.5',
  ];
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
    ...(images ? flaggedLines(r) : []),
    `${images ? `latency per image: p50 ${r.latency_ms.p50.toFixed(1)} ms, p95 ${r.latency_ms.p95.toFixed(1)} ms; ` : ''}unreadable: ${r.unreadable.length}`,
    ...(v
      ? [
          '',
          ...table(v, `group (videos, ${v.frames} frames)`),
          ...flaggedLines(v),
          `latency per clip: p50 ${v.latency_ms.p50.toFixed(1)} ms, p95 ${v.latency_ms.p95.toFixed(1)} ms`,
        ]
      : []),
  ].join('\n');
}
