import type { CheckFix, CheckStatus } from '../contract/ops/health.js';
import type { SweepContext } from './sweep-context.js';

/** What a check decides; the runner adds id, timing and attempts. */
export interface Verdict {
  status: CheckStatus;
  /** One line, no secrets. */
  message: string;
  fix?: CheckFix;
}

/** One health check: a small module in checks/ registered in checks/index.ts. */
export interface HealthCheck {
  readonly id: string;
  /** Short label for the UI and the CLI. */
  readonly title: string;
  /**
   * The time budget: the runner stops waiting at the check's timeout and aborts `signal`; the
   * lookups a check awaits carry their own deadlines. A check whose work grows with the
   * operator's data also takes a memory budget by running it in a worker (see isolate.ts).
   */
  run(ctx: SweepContext, signal?: AbortSignal): Promise<Verdict>;
}

export const ok = (message: string): Verdict => ({ status: 'ok', message });
export const warn = (message: string, fix?: CheckFix): Verdict => ({ status: 'warn', message, ...(fix ? { fix } : {}) });
export const fail = (message: string, fix: CheckFix): Verdict => ({ status: 'fail', message, fix });
export const unknown = (message: string, fix?: CheckFix): Verdict => ({ status: 'unknown', message, ...(fix ? { fix } : {}) });
