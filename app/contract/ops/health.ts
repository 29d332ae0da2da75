export type CheckStatus = 'ok' | 'warn' | 'fail' | 'unknown';

export interface CheckFix {
  text: string;
  /** A panel operation that applies the fix in one click, where that is safe. */
  action?: string;
}

export interface CheckResult {
  id: string;
  status: CheckStatus;
  latencyMs: number;
  checkedAt: string;
  message: string;
  fix?: CheckFix;
}

export const healthOps = {};
