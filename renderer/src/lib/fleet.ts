import type { CheckResult, FleetStatus, InstanceInfo } from '../../../app/contract/index.js';

/** The URL's `?instance=`: the instance shown, kept across a reload. */
export const INSTANCE_PARAM = 'instance';

/**
 * The instance to show: the one the URL names when it is in the fleet, else the first. With one
 * instance (or none known yet) undefined, so calls and cache keys stay as they were before the fleet.
 */
export function selectInstance(instances: readonly InstanceInfo[] | undefined, wanted: string | null): string | undefined {
  if (!instances || instances.length < 2) return undefined;
  return instances.find((i) => i.id === wanted)?.id ?? instances[0]!.id;
}

/** The URL showing `instance` on `page` (search and hash), from the current one. */
export function instanceHref(current: string, instance: string, page: string): string {
  const url = new URL(current);
  url.searchParams.set(INSTANCE_PARAM, instance);
  url.hash = `#/${page}`;
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * One pushed check result applied to the fleet view's row of `instance`: the same object back when
 * it changes nothing, and only that row replaced otherwise (the other rows keep their identity, so
 * their memoized rendering is skipped).
 */
export function patchFleetRow(fleet: FleetStatus, instance: string, r: CheckResult): { fleet: FleetStatus; statusChanged: boolean } {
  const at = fleet.instances.findIndex((row) => row.id === instance);
  const row = fleet.instances[at];
  if (!row) return { fleet, statusChanged: false };
  const old = row.checks.find((c) => c.id === r.id);
  if (old && old.status === r.status && old.message === r.message) return { fleet, statusChanged: false };
  const check = { id: r.id, status: r.status, message: r.message };
  const checks = old ? row.checks.map((c) => (c.id === r.id ? check : c)) : [...row.checks, check];
  const instances = fleet.instances.map((x, i) => (i === at ? { ...row, checks } : x));
  return { fleet: { ...fleet, instances }, statusChanged: old?.status !== r.status };
}
