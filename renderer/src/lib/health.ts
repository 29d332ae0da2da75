import type { CheckResult, CheckStatus, CheckSummary, HealthStatusView, HistoryPoint } from '../../../app/contract/index.js';
import { checkTitles } from '../../../app/contract/names.js';
import { LIGHT_WORDS, type Light } from '../components/StatusLight.js';

/** The strip's length: the status view keeps the last 50 results per check (CheckSummary.history). */
export const HISTORY_SLOTS = 50;

export function checkTitle(id: string): string {
  return checkTitles[id] ?? id;
}

export interface CheckChange {
  title: string;
  body: string;
  /** One notification per instance and check: a newer change replaces the older one. */
  tag: string;
  silent: boolean;
}

/**
 * The last known state of every check of every instance (the key `undefined` with one instance),
 * seeded from what the page read so the first change after a load is one: a pushed result says
 * whether it changed a state, and what to tell the operator then. A first result is no change.
 */
export class CheckStates {
  private readonly last = new Map<string, CheckStatus>();

  private static key(instance: string | undefined, check: string): string {
    return `${instance ?? ''}\n${check}`;
  }

  /** What was read; a state already known (from a pushed result) is newer and stays. */
  seed(instance: string | undefined, checks: readonly Pick<CheckSummary, 'id' | 'status'>[]): void {
    for (const c of checks) {
      const k = CheckStates.key(instance, c.id);
      if (!this.last.has(k)) this.last.set(k, c.status);
    }
  }

  /** `label` names the instance in the title (a fleet); none with one instance. */
  change(instance: string | undefined, r: Pick<CheckResult, 'id' | 'status' | 'message' | 'fix'>, label?: string): CheckChange | undefined {
    const k = CheckStates.key(instance, r.id);
    const from = this.last.get(k);
    this.last.set(k, r.status);
    if (from === undefined || from === r.status) return undefined;
    const body = [r.message, ...(r.status !== 'ok' && r.fix ? [`Fix: ${r.fix.text}`] : [])].join('\n');
    const title = `${label === undefined ? '' : `${label} · `}${checkTitle(r.id)}: ${LIGHT_WORDS[from]} → ${LIGHT_WORDS[r.status]}`;
    return { title, body, tag: `check-${instance === undefined ? '' : `${instance}-`}${r.id}`, silent: r.status === 'ok' };
  }
}

/**
 * One pushed result applied to the cached status view: the check's latest result and its strip.
 * Its 24 h uptime stays the core's figure (hourly counts the UI does not have) until the view is
 * fetched again: one rule, the same live and after a reload. A result not newer than the cached
 * one changes nothing (the same object comes back).
 */
export function patchHealth(view: HealthStatusView, r: CheckResult): HealthStatusView {
  const at = view.checks.findIndex((c) => c.id === r.id);
  const old = view.checks[at];
  if (old && r.checkedAt <= old.checkedAt) return view;
  const point: HistoryPoint = { status: r.status, checkedAt: r.checkedAt, latencyMs: r.latencyMs, message: r.message };
  const next: CheckSummary = { ...r, history: [...(old?.history ?? []), point].slice(-HISTORY_SLOTS), uptime24h: old?.uptime24h ?? null };
  const checks = old ? view.checks.map((c, i) => (i === at ? next : c)) : [...view.checks, next];
  const lastCheckAt = !view.lastCheckAt || r.checkedAt > view.lastCheckAt ? r.checkedAt : view.lastCheckAt;
  return { ...view, checks, lastCheckAt };
}

export interface HealthSummary {
  light: Light;
  /** One sentence with every count that matters; Unknown is never hidden behind "OK". */
  headline: string;
  /** The checks that are not OK, worst first, for naming them under the headline. */
  groups: { status: Exclude<CheckStatus, 'ok'>; word: string; ids: string[] }[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function summarize(checks: readonly Pick<CheckSummary, 'id' | 'status'>[]): HealthSummary {
  const ids = (s: CheckStatus) => checks.filter((c) => c.status === s).map((c) => c.id);
  const fail = ids('fail');
  const unknown = ids('unknown');
  const warn = ids('warn');
  const n = checks.length;
  const groups = (
    [
      { status: 'fail', word: 'Failing', ids: fail },
      { status: 'unknown', word: 'Unknown', ids: unknown },
      { status: 'warn', word: 'Warning', ids: warn },
    ] as const
  ).filter((g) => g.ids.length > 0);
  const rest = [unknown.length ? `${unknown.length} unknown` : '', warn.length ? plural(warn.length, 'warning') : ''].filter(Boolean).join(', ');
  if (n === 0) return { light: 'unknown', headline: 'No checks have run yet', groups };
  if (fail.length) return { light: 'fail', headline: `${fail.length} of ${n} checks failing${rest ? `, ${rest}` : ''}`, groups: [...groups] };
  if (unknown.length) {
    return { light: 'unknown', headline: `${unknown.length} of ${n} checks unknown${warn.length ? `, ${plural(warn.length, 'warning')}` : ''}; none failing`, groups: [...groups] };
  }
  if (warn.length) return { light: 'warn', headline: `No check failing, ${plural(warn.length, 'warning')}`, groups: [...groups] };
  return { light: 'ok', headline: `All ${n} checks OK`, groups: [] };
}

/** A stretch of consecutive failing results in the strip. */
export interface Incident {
  from: string;
  /** When the first result after it came in (absent while it lasts). */
  to?: string;
  results: number;
  /** What the check said when it went red. */
  message: string;
  /** The result that ended it: its status and what the check then said. */
  endedBy?: Pick<HistoryPoint, 'status' | 'message' | 'checkedAt'>;
}

/** Incidents in the strip, newest first. */
export function incidents(points: readonly HistoryPoint[]): Incident[] {
  const out: Incident[] = [];
  let open: Incident | undefined;
  for (const p of points) {
    if (p.status === 'fail') {
      if (open) open.results++;
      else out.push((open = { from: p.checkedAt, results: 1, message: p.message }));
    } else if (open) {
      open.to = p.checkedAt;
      open.endedBy = { status: p.status, message: p.message, checkedAt: p.checkedAt };
      open = undefined;
    }
  }
  return out.reverse();
}

/** Median and maximum latency of the strip's results, in ms; undefined when it is empty. */
export function latencyStats(points: readonly HistoryPoint[]): { median: number; max: number } | undefined {
  if (points.length === 0) return undefined;
  const sorted = points.map((p) => p.latencyMs).sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)! };
}
