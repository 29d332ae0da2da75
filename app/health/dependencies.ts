import type { LiveFact } from '../contract/events.js';
import type { HealthCheck } from './check.js';

/**
 * Which checks read each fact (through their SweepContext lookups), so that a change re-runs
 * exactly those at once instead of waiting for the next sweep. A check missing from every list
 * is only refreshed by sweeps; the unit test holds every registered check to at least one fact.
 */
export const checksReading: Readonly<Record<LiveFact, readonly string[] | 'all'>> = {
  // Engine, container, its healthcheck, the login node in it, the server it publishes, the gateway before it.
  container: ['docker', 'container', 'docker-health', 'login-node', 'auth-rejects-anonymous', 'auth-accepts-token', 'userdata-exposure', 'token-consistency', 'gpu', 'comfyui-version', 'gateway-up', 'gateway-hides-comfyui', 'gateway-keys'],
  // The vault's credential is what the token checks compare and send.
  vault: ['auth-accepts-token', 'token-consistency', 'generation'],
  // env targets hold copies of the token.
  env: ['env-consistency', 'token-consistency'],
  runs: ['generation'],
  config: 'all',
};

/** The ids of the checks that read any of these facts, in the registry's order. */
export function checksDependingOn(facts: readonly LiveFact[], checks: readonly HealthCheck[]): string[] {
  const ids = new Set<string>();
  for (const fact of facts) {
    const reading = checksReading[fact];
    for (const id of reading === 'all' ? checks.map((c) => c.id) : reading) ids.add(id);
  }
  return checks.filter((c) => ids.has(c.id)).map((c) => c.id);
}
