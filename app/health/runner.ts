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

/** Longest message (and fix text) a result keeps: a server's 10 MB answer must not grow the history 10 MB a sweep. */
export const MAX_MESSAGE_CHARS = 1_000;

const clip = (text: string, max = MAX_MESSAGE_CHARS) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * The one place results are bounded: what a check returns is cut to size before it is
 * emitted or stored, and so is what an older history file holds when it is loaded.
 */
export function boundResult<R extends Pick<CheckResult, 'message' | 'fix'>>(r: R): R {
  if (!r.fix) return { ...r, message: clip(r.message) };
  const { text, explanation, failure, action, input } = r.fix;
  const fix = {
    text: clip(text),
    ...(action !== undefined ? { action: clip(action, 100) } : {}),
    ...(failure !== undefined ? { failure: clip(failure, 100) } : {}),
    ...(explanation !== undefined ? { explanation: clip(explanation, 2 * MAX_MESSAGE_CHARS) } : {}),
    ...(input !== undefined ? { input: Object.fromEntries(Object.entries(input).slice(0, 20).map(([k, v]) => [clip(k, 100), typeof v === 'string' ? clip(v, 200) : v])) } : {}),
  };
  return { ...r, message: clip(r.message), fix };
}

function thrown(err: unknown): Verdict {
  const fix = err instanceof PanelError && err.fix ? { text: redact(err.fix) } : undefined;
  return unknown(`check could not run: ${redact(errorMessage(err)).split('\n')[0]}`, fix);
}

/** One attempt, bounded by the timeout whatever the check does: a hanging check is abandoned. */
async function attempt(check: HealthCheck, ctx: SweepContext, timeoutMs: number): Promise<{ verdict: Verdict; latencyMs: number }> {
  const started = performance.now();
  const abandon = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => {
      abandon.abort(); // the check still runs past its verdict: it stops its work
      resolve(fail(`${check.title}: no answer within ${timeoutMs} ms`, fixFor('check-timeout')));
    }, timeoutMs);
  });
  try {
    // A check that answered is done: aborting it anyway cost a DOMException per check per sweep.
    const verdict = await Promise.race([check.run(ctx, abandon.signal).catch(thrown), timedOut]);
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
      return boundResult({ id: check.id, ...verdict, latencyMs, checkedAt: new Date().toISOString(), attempts: n });
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
