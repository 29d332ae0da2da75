/** Counts runs per scenario family, prints the tally lines and writes them to test-results/faults.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface RunReport {
  /** What was injected, e.g. "throw at 7 (env:.env.write, after)": enough to replay with the seed. */
  label: string;
  problems: string[];
  lostFiles: string[];
  /** Which credential the run settled on, where that is known. */
  ended?: 'old' | 'new';
}

export interface Counts {
  runs: number;
  consistent: number;
  lostFiles: number;
}

export const tallyLine = (c: Counts, what: string) => `fault-injection: runs=${c.runs} consistent=${c.consistent} lost-files=${c.lostFiles} (${what})`;

const countsOf = (reports: RunReport[]): Counts => ({
  runs: reports.length,
  consistent: reports.filter((r) => r.problems.length === 0).length,
  lostFiles: reports.reduce((n, r) => n + r.lostFiles.length, 0),
});

export class Tally {
  private readonly families = new Map<string, RunReport[]>();

  add(family: string, report: RunReport): void {
    this.families.set(family, [...(this.families.get(family) ?? []), report]);
  }

  counts(family: string): Counts {
    return countsOf(this.families.get(family) ?? []);
  }

  total(): Counts {
    return countsOf([...this.families.values()].flat());
  }

  endings(family: string): RunReport['ended'][] {
    return (this.families.get(family) ?? []).map((r) => r.ended);
  }

  /** The failed runs, for the assertion message. */
  failures(family?: string): RunReport[] {
    const reports = family ? (this.families.get(family) ?? []) : [...this.families.values()].flat();
    return reports.filter((r) => r.problems.length > 0 || r.lostFiles.length > 0);
  }

  /** Prints one line per family and the total; writes the same as JSON. */
  report(file: string, seed: number): Counts {
    const total = this.total();
    const families = Object.fromEntries([...this.families.keys()].map((f) => [f, { ...this.counts(f), failures: this.failures(f).slice(0, 20) }]));
    for (const f of this.families.keys()) console.log(tallyLine(this.counts(f), f));
    console.log(tallyLine(total, 'total'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ seed, families, total }, null, 2)}\n`);
    return total;
  }
}
