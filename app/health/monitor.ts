import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckResult, HealthStatusView, HealthSweep } from '../contract/ops/health.js';
import type { HealthCheck } from './check.js';
import { HealthHistory } from './history.js';
import { stateChanges, type Notifier } from './notifier.js';
import { runSweep } from './runner.js';
import { SweepContext, type SweepDeps } from './sweep-context.js';

/** How long recheck() gathers ids before running them: a restart reports several states within it. */
export const RECHECK_DEBOUNCE_MS = 150;

export interface MonitorOptions {
  checks: readonly HealthCheck[];
  /** Read at every sweep, so a saved configuration applies from the next one. */
  deps: () => SweepDeps;
  /** JSON file of the history (historyFile(paths)). */
  historyFile: string;
  notifier?: Notifier;
  /** Each check's result as soon as it is final. */
  onResult?: (result: CheckResult) => void;
  retryDelayMs?: number;
  /** Keep the process alive while waiting for the next sweep (the CLI's --watch); hosts with a server need not. */
  keepAlive?: boolean;
}

/**
 * Sweeps every config health.intervalSec, keeps the history on disk, and tells the
 * notifier about state changes only. One sweep at a time: asking while one runs gets the
 * next one, which starts when it ends (shared by everyone who asks meanwhile), so a change
 * made while a sweep was in flight (a Fix button's run) is always seen by the sweep asked after it.
 */
export class HealthMonitor {
  private readonly history: Promise<HealthHistory>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<HealthSweep> | undefined;
  /** The sweep that follows the running one, for callers that asked while it ran. */
  private queued: Promise<HealthSweep> | undefined;
  private nextAt: number | undefined;
  private stopped = true;
  /** Checks asked for by recheck() and not run yet, and the timer that gathers them. */
  private readonly due = new Set<string>();
  private dueTimer: NodeJS.Timeout | undefined;
  private rechecking: Promise<void> | undefined;
  /** Set by the host (Electron main: desktop notifications), replaceable at any time. */
  notifier: Notifier | undefined;

  constructor(private readonly opts: MonitorOptions) {
    this.notifier = opts.notifier;
    this.history = HealthHistory.load(opts.historyFile);
    this.history.catch(() => undefined); // surfaced by the first sweep or status call
  }

  /** The checks it runs, in the registry's order. */
  get checks(): readonly HealthCheck[] {
    return this.opts.checks;
  }

  get monitoring(): boolean {
    return !this.stopped;
  }

  /** Sweeps after `firstDelayMs` (default now), then every interval, until stop(). */
  start(firstDelayMs = 0): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /** Stops scheduling and waits for a sweep in progress to finish and be saved. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.dueTimer);
    this.timer = undefined;
    this.dueTimer = undefined;
    this.due.clear();
    this.nextAt = undefined;
    await this.queued?.catch(() => undefined);
    await Promise.allSettled([this.running, this.rechecking]);
  }

  private intervalMs(): number {
    return this.opts.deps().config.health.intervalSec * 1000;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.nextAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.nextAt = undefined;
      // The schedule only needs a recent sweep: it joins one in progress.
      (this.running ?? this.begin())
        .catch(() => undefined) // a failed save must not stop the schedule; the next sweep tries again
        .finally(() => this.schedule(this.intervalMs()));
    }, delayMs);
    if (!this.opts.keepAlive) this.timer.unref();
  }

  /** A full sweep that starts no earlier than this call (the one after the sweep in progress, if any). */
  sweep(): Promise<HealthSweep> {
    if (!this.running) return this.begin();
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.begin();
      });
    return this.queued;
  }

  private begin(): Promise<HealthSweep> {
    const run = this.doSweep().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /**
   * Re-runs these checks soon (a fact they read changed: the container's state, the vault, a
   * file): ids asked for within `debounceMs` of each other run together, in one context, and a
   * full sweep in progress is waited for first. Unknown ids are ignored; nothing runs once stopped.
   */
  recheck(ids: readonly string[], debounceMs = RECHECK_DEBOUNCE_MS): void {
    if (this.stopped) return;
    const known = ids.filter((id) => this.opts.checks.some((c) => c.id === id));
    if (known.length === 0) return;
    known.forEach((id) => this.due.add(id));
    clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      const run: Promise<void> = (this.rechecking ?? Promise.resolve()).then(() => this.runDue()).catch(() => undefined);
      this.rechecking = run;
      void run.finally(() => {
        if (this.rechecking === run) this.rechecking = undefined;
      });
    }, debounceMs);
    if (!this.opts.keepAlive) this.dueTimer.unref();
  }

  /** Resolves once every recheck asked for so far has run (tests, and hosts shutting down). */
  async settled(): Promise<void> {
    while (this.dueTimer || this.rechecking) await (this.rechecking ?? sleep(10));
  }

  private async runDue(): Promise<void> {
    // A sweep running now may have read the world before the change: run after it, not instead.
    await this.running?.catch(() => undefined);
    if (this.stopped || this.due.size === 0) return;
    const checks = this.opts.checks.filter((c) => this.due.has(c.id));
    this.due.clear();
    await this.runAndRecord(checks);
  }

  private async doSweep(): Promise<HealthSweep> {
    const started = Date.now();
    const checks = await this.runAndRecord(this.opts.checks);
    return { checks, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, ok: checks.every((c) => c.status !== 'fail') };
  }

  /** Runs the checks, records them, tells the notifier what changed state. */
  private async runAndRecord(which: readonly HealthCheck[]): Promise<CheckResult[]> {
    const history = await this.history;
    const deps = this.opts.deps();
    const checks = await runSweep(which, () => new SweepContext(deps), {
      timeoutMs: deps.config.health.checkTimeoutMs,
      retries: deps.config.health.retries,
      retryDelayMs: this.opts.retryDelayMs,
      onResult: this.opts.onResult,
    });
    const changes = stateChanges((id) => history.last(id)?.status, checks);
    history.record(checks);
    for (const change of changes) {
      // a notifier that throws must not break monitoring
      void Promise.resolve()
        .then(() => this.notifier?.notify(change))
        .catch(() => undefined);
    }
    await history.save(); // after notifying: a full disk must not swallow an outage notification
    return checks;
  }

  async status(): Promise<HealthStatusView> {
    const history = await this.history;
    const now = Date.now();
    const checks = this.opts.checks.flatMap((c) => {
      const last = history.last(c.id);
      return last ? [{ ...last, history: history.strip(c.id), uptime24h: history.uptime24h(c.id, now) }] : [];
    });
    return {
      checks,
      lastCheckAt: history.lastCheckAt,
      nextCheckAt: this.nextAt === undefined ? null : new Date(this.nextAt).toISOString(),
      intervalSec: this.opts.deps().config.health.intervalSec,
      monitoring: this.monitoring,
    };
  }
}
