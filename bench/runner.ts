import { errorMessage } from '../app/errors.js';
import type { Figure, FigureFailure, Measurement } from './measurement.js';
import { machine, type BenchReport } from './report.js';
import type { BenchSizes } from './sizes.js';

/** Runs the figures one after another (they would skew each other in parallel); a failing figure is recorded, not fatal. */
export async function runFigures(figures: readonly Figure[], sizes: BenchSizes, progress: (line: string) => void): Promise<BenchReport> {
  const startedAt = new Date();
  const measurements: Measurement[] = [];
  const failures: FigureFailure[] = [];
  for (const figure of figures) {
    progress(`${figure.title}...`);
    try {
      measurements.push(...(await figure.run(sizes, progress)));
    } catch (e) {
      failures.push({ figure: figure.id, error: errorMessage(e).split('\n')[0]! });
    }
  }
  return { startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), machine: machine(), sizes, measurements, failures };
}

/** BENCH_ONLY=env,logs picks figures by id; an unknown id is an error listing the known ones. */
export function selectFigures(all: readonly Figure[], only: string | undefined): readonly Figure[] {
  if (!only) return all;
  const ids = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !all.some((f) => f.id === id));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown figure ${unknown.join(', ')}; known: ${all.map((f) => f.id).join(', ')}`);
  return all.filter((f) => ids.includes(f.id));
}
