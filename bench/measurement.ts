/**
 * What every figure of the bench produces: a value and a baseline measured in the same run,
 * their ratio, and the target (if the brief gives one) with whether it was met.
 */
import type { BenchSizes } from './sizes.js';

export interface Target {
  /** `ratio-max`: ratio <= limit; `value-max`: value <= limit; `value-min`: value >= limit. */
  kind: 'ratio-max' | 'value-max' | 'value-min';
  limit: number;
  /** How the target reads in the table, e.g. "<= 2x" or ">= 50,000 lines/s". */
  text: string;
}

export interface Measurement {
  /** Stable id, e.g. "env.parse". */
  id: string;
  /** What was measured, in words. */
  label: string;
  value: number;
  /** Unit of value and baseline (they share one so the ratio means something). */
  unit: string;
  baseline: number;
  baselineLabel: string;
  /** value / baseline. */
  ratio: number;
  target?: Target;
  /** Whether the target was met; null when the brief sets no target. */
  met: boolean | null;
  /** Anything the reader must know to interpret the figure (what was substituted, sizes). */
  note?: string;
}

/** A figure that could not be measured at all, and why. */
export interface FigureFailure {
  figure: string;
  error: string;
}

export type MeasurementInput = Omit<Measurement, 'ratio' | 'met'>;

/** Fills in ratio and met; a ratio that is not finite and positive means the measurement is broken. */
export function measurement(m: MeasurementInput): Measurement {
  const ratio = m.value / m.baseline;
  if (!Number.isFinite(ratio) || ratio <= 0) {
    throw new Error(`${m.id}: no usable ratio (value ${m.value} ${m.unit}, baseline ${m.baseline} ${m.unit})`);
  }
  return { ...m, ratio, met: m.target ? meets(m.target, m.value, ratio) : null };
}

function meets(target: Target, value: number, ratio: number): boolean {
  switch (target.kind) {
    case 'ratio-max':
      return ratio <= target.limit;
    case 'value-max':
      return value <= target.limit;
    case 'value-min':
      return value >= target.limit;
  }
}

/** One figure of the bench: its module measures with the real components and returns its rows. */
export interface Figure {
  id: string;
  title: string;
  /** `progress` prints a line on stderr while the figure runs. */
  run(sizes: BenchSizes, progress: (line: string) => void): Promise<Measurement[]>;
}
