/** The bench's output: a table on stdout and bench/results/latest.json. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FigureFailure, Measurement } from './measurement.js';
import type { BenchSizes } from './sizes.js';

export interface BenchReport {
  startedAt: string;
  durationMs: number;
  machine: { cpus: number; node: string; platform: string };
  sizes: BenchSizes;
  measurements: Measurement[];
  failures: FigureFailure[];
}

function number(n: number): string {
  const abs = Math.abs(n);
  // Below 0.1, two significant digits: a 0.0034x ratio must not print as 0x.
  if (abs > 0 && abs < 0.1) return n.toLocaleString('en-US', { maximumSignificantDigits: 2 });
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

const verdict = (m: Measurement) => (m.met === null ? 'no target' : m.met ? 'met' : 'MISSED');

/** A plain-text table, one row per measurement, then one line per figure that could not be measured. */
export function formatTable(report: BenchReport): string {
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', 'result'];
  const rows = report.measurements.map((m) => [m.id, `${number(m.value)} ${m.unit}`, `${number(m.baseline)} ${m.unit}`, `${number(m.ratio)}x`, m.target?.text ?? '-', verdict(m)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  for (const m of report.measurements) out.push(`${m.id}: ${m.label}; baseline: ${m.baselineLabel}${m.note ? `; ${m.note}` : ''}`);
  for (const f of report.failures) out.push(`NOT MEASURED ${f.figure}: ${f.error}`);
  const missed = report.measurements.filter((m) => m.met === false).map((m) => m.id);
  out.push('', `${report.measurements.length} figures in ${number(report.durationMs / 1000)} s on ${report.machine.cpus} CPUs; targets missed: ${missed.length ? missed.join(', ') : 'none'}; not measured: ${report.failures.length ? report.failures.map((f) => f.figure).join(', ') : 'none'}`);
  return out.join('\n');
}

export function machine(): BenchReport['machine'] {
  return { cpus: os.availableParallelism(), node: process.version, platform: `${process.platform}-${process.arch}` };
}

export async function writeReport(report: BenchReport, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}
