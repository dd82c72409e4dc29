import { isModality, LABELS, type Label, type Modality, modalityOfPath } from '@veracity/protocol/domain';

/**
 * A labelled media set: a folder with `manifest.csv` in the columns of ../shared/datasets (path, label, modality,
 * group, source_repo, generator, license, sha256, notes). Only path and label are required, so any user's set
 * works: a missing modality is read from the file extension, a missing group is "ungrouped".
 */
export interface DatasetRow {
  path: string;
  label: Label;
  modality: Modality;
  group: string;
  [column: string]: string;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.length > 1 || r[0] !== '');
}

export interface ParsedDataset {
  rows: DatasetRow[];
  /** Lines that could not be used, with the reason (1-based line numbers counting the header). */
  rejected: Array<{ line: number; reason: string }>;
}

const REQUIRED = ['path', 'label'] as const;

export interface ParseOptions {
  /**
   * Accept absolute paths (a set you score on your own machine, e.g. with veracity-eval). Off by default: the
   * validator serves files from a dataset folder and must never be pointed outside it.
   */
  absolutePaths?: boolean;
}

/** Why `path` cannot be a row's file, or null when it can: empty, outside the set ('..'), or absolute unless allowed. */
function pathProblem(path: string, options: ParseOptions): string | null {
  if (!path) return 'empty path';
  if (path.split(/[\\/]/).includes('..')) return `path "${path}" leaves the dataset folder ('..')`;
  const absolute = path.startsWith('/') || path.startsWith('\\') || /^[a-z]:[\\/]/i.test(path);
  if (absolute && !options.absolutePaths) return `path "${path}" is absolute: give it relative to the manifest's folder`;
  return null;
}

export function parseDatasetManifest(text: string, options: ParseOptions = {}): ParsedDataset {
  // A spreadsheet's CSV export may start with a byte-order mark and pad or capitalise its header names.
  const [rawHeader, ...body] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!rawHeader) throw new Error('manifest.csv is empty');
  const header = rawHeader.map((h) => h.trim().toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new Error(`manifest.csv lacks the column(s) ${missing.join(', ')}`);
  const rows: DatasetRow[] = [];
  const rejected: ParsedDataset['rejected'] = [];
  body.forEach((cells, i) => {
    const row = Object.fromEntries(header.map((h, j) => [h, cells[j] ?? ''])) as Record<string, string>;
    const line = i + 2;
    row.path = (row.path ?? '').trim(); // as the training reader does (models/train/data.py)
    row.label = (row.label ?? '').trim().toLowerCase();
    row.modality = row.modality?.trim() ? row.modality.trim().toLowerCase() : modalityOfPath(row.path);
    const problem = !LABELS.includes(row.label as Label)
      ? `unknown label "${row.label}"`
      : !isModality(row.modality)
        ? `unknown modality "${row.modality}"`
        : pathProblem(row.path, options);
    if (problem) rejected.push({ line, reason: problem });
    else rows.push({ ...row, group: row.group || 'ungrouped' } as DatasetRow);
  });
  return { rows, rejected };
}

/** 1 for AI (synthetic or semisynthetic), 0 for real: the binary target of every metric. */
export function isAi(label: Label): 0 | 1 {
  return label === 'real' ? 0 : 1;
}
