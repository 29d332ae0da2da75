/**
 * Runs `run` with a signal that aborts after `ms`, like AbortSignal.timeout, but with a timer
 * that keeps the process alive while it runs. AbortSignal.timeout's timer does not: a CLI whose
 * only pending work was a request stalled on a published port whose container was still
 * starting drained its event loop and exited with code 13 instead of timing out and polling again.
 */
export async function withDeadline<T>(ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  try {
    return await run(ac.signal);
  } finally {
    clearTimeout(timer);
  }
}
