import type { InstanceRef } from '../config/instances.js';
import type { CheckResult, CheckStatus } from '../contract/ops/health.js';

/** A check moved from one status to another (ok→fail, fail→ok, ok→warn, ...). */
export interface StateChange {
  id: string;
  from: CheckStatus;
  to: CheckStatus;
  result: CheckResult;
  /** The instance it happened on, when the panel runs more than one (set by the fleet). */
  instance?: InstanceRef;
}

/**
 * Told only when a check changes state, never on a sweep that changes nothing. The
 * Electron main implements it with a desktop notification, `health --watch` with a line.
 */
export interface Notifier {
  notify(change: StateChange): void | Promise<void>;
}

/** The changes between the last known status of each check and these results; a first result is no change. */
export function stateChanges(previous: (id: string) => CheckStatus | undefined, results: readonly CheckResult[]): StateChange[] {
  return results.flatMap((result) => {
    const from = previous(result.id);
    return from !== undefined && from !== result.status ? [{ id: result.id, from, to: result.status, result }] : [];
  });
}

/** `n`, told each change with the instance it is about, as `instance()` names it then (none: nothing added). */
export function aboutInstance(n: Notifier, instance: () => InstanceRef | undefined): Notifier {
  return {
    notify(change) {
      const about = instance();
      return n.notify(about ? { ...change, instance: about } : change);
    },
  };
}

/** One notifier telling each of these in turn; one that fails does not keep the others from hearing. */
export function combineNotifiers(...notifiers: (Notifier | undefined)[]): Notifier {
  const all = notifiers.filter((n): n is Notifier => n !== undefined);
  return {
    async notify(change) {
      await Promise.allSettled(all.map(async (n) => n.notify(change)));
    },
  };
}
