import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { PanelPaths } from '../config/paths.js';
import type { CheckResult, HistoryPoint } from '../contract/ops/health.js';
import { backupStamp, writeFileAtomic } from '../fs/atomic.js';
import { boundResult } from './runner.js';

/** Results kept per check for the history strip. */
export const HISTORY_LENGTH = 50;
const HOUR_MS = 3_600_000;
const UPTIME_HOURS = 24;

const StatusSchema = z.enum(['ok', 'warn', 'fail', 'unknown']);
const ResultSchema = z.object({
  id: z.string(),
  status: StatusSchema,
  latencyMs: z.number(),
  checkedAt: z.string(),
  message: z.string(),
  fix: z
    .object({
      text: z.string(),
      action: z.string().optional(),
      input: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      failure: z.string().optional(),
      explanation: z.string().optional(),
    })
    .optional(),
  attempts: z.number().optional(),
}).transform(boundResult); // a file written before results were bounded may hold megabytes
/** Counts per hour since the epoch, for the 24 h uptime without keeping every result. */
const HourSchema = z.object({ hour: z.int(), up: z.int().min(0), down: z.int().min(0) });
const FileSchema = z.object({
  format: z.literal('comfy-panel-health-history'),
  version: z.literal(1),
  lastCheckAt: z.string().nullable(),
  checks: z.record(z.string(), z.object({ recent: z.array(ResultSchema), hours: z.array(HourSchema) })),
});
type HistoryFile = z.infer<typeof FileSchema>;
type CheckHistory = HistoryFile['checks'][string];

export function historyFile(paths: PanelPaths): string {
  return path.join(paths.dataDir, 'health-history.json');
}

/**
 * The last results of every check and hourly up/down counts, kept in one JSON file in
 * the data folder (atomic writes) so the strip and the uptime survive a restart.
 * ok and warn count as up, fail as down; unknown counts as neither.
 */
export class HealthHistory {
  private constructor(
    readonly file: string,
    private data: HistoryFile,
  ) {}

  /** Reads the file; a missing one starts empty, a damaged one is set aside (renamed) rather than lost. */
  static async load(file: string): Promise<HealthHistory> {
    const empty: HistoryFile = { format: 'comfy-panel-health-history', version: 1, lastCheckAt: null, checks: {} };
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new HealthHistory(file, empty);
      throw e;
    }
    let parsed: ReturnType<typeof FileSchema.safeParse>;
    try {
      parsed = FileSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = FileSchema.safeParse(undefined);
    }
    if (parsed.success) return new HealthHistory(file, parsed.data);
    await fs.rename(file, `${file}.damaged-${backupStamp()}`);
    return new HealthHistory(file, empty);
  }

  get lastCheckAt(): string | null {
    return this.data.lastCheckAt;
  }

  record(results: readonly CheckResult[]): void {
    for (const r of results) {
      const h: CheckHistory = (this.data.checks[r.id] ??= { recent: [], hours: [] });
      h.recent = [...h.recent, r].slice(-HISTORY_LENGTH);
      if (r.status !== 'unknown') {
        const hour = Math.floor(Date.parse(r.checkedAt) / HOUR_MS);
        let bucket = h.hours.find((b) => b.hour === hour);
        if (!bucket) h.hours.push((bucket = { hour, up: 0, down: 0 }));
        if (r.status === 'fail') bucket.down++;
        else bucket.up++;
        h.hours = h.hours.filter((b) => b.hour > hour - UPTIME_HOURS - 1);
      }
      if (!this.data.lastCheckAt || r.checkedAt > this.data.lastCheckAt) this.data.lastCheckAt = r.checkedAt;
    }
  }

  ids(): string[] {
    return Object.keys(this.data.checks);
  }

  last(id: string): CheckResult | undefined {
    return this.data.checks[id]?.recent.at(-1);
  }

  strip(id: string): HistoryPoint[] {
    return (this.data.checks[id]?.recent ?? []).map((r) => ({ status: r.status, checkedAt: r.checkedAt, latencyMs: r.latencyMs, message: r.message }));
  }

  /** Percent up among up+down results of the last 24 hours (one decimal), null when there is none. */
  uptime24h(id: string, now = Date.now()): number | null {
    const from = Math.floor((now - UPTIME_HOURS * HOUR_MS) / HOUR_MS);
    let up = 0;
    let down = 0;
    for (const b of this.data.checks[id]?.hours ?? []) {
      if (b.hour <= from) continue;
      up += b.up;
      down += b.down;
    }
    return up + down === 0 ? null : Math.round((1000 * up) / (up + down)) / 10;
  }

  async save(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify(this.data)}\n`, { mode: 0o600, backup: false });
  }
}
