import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckResult } from '../contract/ops/health.js';
import { errorMessage, PanelError } from '../errors.js';
import { redact } from '../redact.js';
import { fail, unknown, type HealthCheck, type Verdict } from './check.js';
import type { SweepContext } from './sweep-context.js';
import { fixFor } from './troubleshoot.js';

export interface SweepOptions {
  /** Each attempt of each check gets this long (config health.checkTimeoutMs). */
  timeoutMs: number;
  /** Extra attempts of a failing check, each with a fresh context (config health.retries). */
  retries: number;
  /** Pause before a retry. */
  retryDelayMs?: number;
  /** Called as soon as each check has its final result (the service emits a `health` event). */
  onResult?: (result: CheckResult) => void;
}

export const DEFAULT_RETRY_DELAY_MS = 1_000;

function thrown(err: unknown): Verdict {
  const fix = err instanceof PanelError && err.fix ? { text: redact(err.fix) } : undefined;
  return unknown(`check could not run: ${redact(errorMessage(err)).split('\n')[0]}`, fix);
}

/** One attempt, bounded by the timeout whatever the check does: a hanging check is abandoned. */
async function attempt(check: HealthCheck, ctx: SweepContext, timeoutMs: number): Promise<{ verdict: Verdict; latencyMs: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => resolve(fail(`${check.title}: no answer within ${timeoutMs} ms`, fixFor('check-timeout'))), timeoutMs);
  });
  try {
    const verdict = await Promise.race([check.run(ctx).catch(thrown), timedOut]);
    return { verdict, latencyMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one check with its retries: a failure is declared only if every attempt fails. */
export async function runCheck(check: HealthCheck, first: SweepContext, fresh: () => SweepContext, opts: SweepOptions): Promise<CheckResult> {
  let ctx = first;
  for (let n = 1; ; n++) {
    const { verdict, latencyMs } = await attempt(check, ctx, opts.timeoutMs);
    if (verdict.status !== 'fail' || n > opts.retries) {
      return { id: check.id, ...verdict, latencyMs, checkedAt: new Date().toISOString(), attempts: n };
    }
    await sleep(opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    ctx = fresh();
  }
}

/** Every check at once, sharing one context; a failing or hanging check never holds up the others. */
export async function runSweep(checks: readonly HealthCheck[], newContext: () => SweepContext, opts: SweepOptions): Promise<CheckResult[]> {
  const shared = newContext();
  return Promise.all(
    checks.map(async (check) => {
      const result = await runCheck(check, shared, newContext, opts);
      opts.onResult?.(result);
      return result;
    }),
  );
}
