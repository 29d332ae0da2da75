/**
 * Deadlines for one-shot requests. AbortSignal.timeout's timer is unref'd: a CLI whose only
 * pending work is a request that holds no ref'd handle of its own drains its event loop and
 * exits with code 13 ("unsettled top-level await") instead of timing out (`container up` on a
 * just-started container did). These timers keep the process alive until the deadline, and are
 * cleared as soon as the work settles so they never hold it longer.
 */

export interface Deadline {
  readonly signal: AbortSignal;
  /** Stops the timer; call once the work has settled, whatever the outcome. */
  clear(this: void): void;
}

/** The error AbortSignal.timeout aborts with, so callers that test `name === 'TimeoutError'` keep working. */
const timeoutError = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

/** A signal that aborts after `ms` with `reason()` (default a TimeoutError), on a timer that keeps the process alive. */
export function deadline(ms: number, reason: () => unknown = timeoutError): Deadline {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(reason()), ms);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

/** Runs `run` with a deadline's signal, clearing it when `run` settles. */
export async function withDeadline<T>(ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const d = deadline(ms);
  try {
    return await run(d.signal);
  } finally {
    d.clear();
  }
}
