import type { QueryKey } from '@tanstack/react-query';
import type { OpInput, OpName } from '../../../app/contract/index.js';
import { isFleetWide } from '../../../app/contract/names.js';

/**
 * The deployment the UI is looking at (the fleet's instance id); undefined with one instance, and
 * then means "the default one". The one place it enters calls and cache keys is here.
 */
export type InstanceId = string | undefined;

/**
 * The input actually sent: the current instance injected, left out when undefined and for the
 * operations on the fleet as a whole (so their data is one cache entry whatever instance is shown).
 */
export function callInput<N extends OpName>(name: N, input: OpInput<N>, instance: InstanceId): OpInput<N> {
  return instance === undefined || isFleetWide(name) ? input : ({ ...input, instance });
}

/** Every query is keyed by [operation, the input sent], so equal calls share one cache entry and one fetch. */
export function opKey<N extends OpName>(name: N, input: OpInput<N>, instance: InstanceId): readonly [N, OpInput<N>] {
  return [name, callInput(name, input, instance)];
}

function keyInstance(key: QueryKey): InstanceId {
  const input = key[1];
  if (!input || typeof input !== 'object' || !('instance' in input)) return undefined;
  return typeof input.instance === 'string' ? input.instance : undefined;
}

/**
 * Whether the cached query with `key` is `op`'s data for `instance`. A change without an
 * instance (today's events) concerns every entry of that op; a query without an instance
 * (the default deployment) is concerned by every change, since the UI cannot tell which
 * instance the default is.
 */
export function keyMatches(key: QueryKey, op: OpName, instance: InstanceId): boolean {
  if (key[0] !== op) return false;
  if (instance === undefined) return true;
  const mine = keyInstance(key);
  return mine === undefined || mine === instance;
}

