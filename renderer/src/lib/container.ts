import type { ContainerOverview, ContainerPhase, ContainerState } from '../../../app/contract/index.js';
import type { Transition } from '../api/effects.js';
import type { Light } from '../components/StatusLight.js';

/** What the UI says about the container: Docker's phase, or the transition an operation has begun. */
export type DisplayPhase = ContainerPhase | Transition;

export const phaseLight: Record<DisplayPhase, Light> = {
  healthy: 'ok',
  starting: 'busy',
  restarting: 'busy',
  stopping: 'busy',
  created: 'warn',
  unhealthy: 'fail',
  crashed: 'fail',
  stopped: 'warn',
  absent: 'unknown',
  unknown: 'unknown',
};

/**
 * The phase to show. An operation in flight shows its transition until the data says otherwise;
 * and "healthy" is never shown while Docker's own healthcheck still says starting.
 */
export function displayPhase(s: Pick<ContainerState, 'phase' | 'health'>, transition?: Transition): DisplayPhase {
  if (transition) return transition;
  if (s.phase === 'healthy' && s.health === 'starting') return 'starting';
  return s.phase;
}

const RUNNING: readonly ContainerPhase[] = ['starting', 'healthy', 'unhealthy'];

/**
 * Whether a pushed state ends a transition: Start ends at the next state Docker reports; Restart
 * when the container runs again (the stop half of a restart does not end it); Stop once it is
 * down.
 */
export function endsTransition(t: Transition, s: Pick<ContainerState, 'phase'>): boolean {
  switch (t) {
    case 'starting':
      return true;
    case 'restarting':
      return RUNNING.includes(s.phase) || s.phase === 'crashed';
    case 'stopping':
      return !RUNNING.includes(s.phase);
  }
}

/**
 * A pushed or returned state merged into the cached overview; an older state (events and call
 * results travel on different connections) does not overwrite a newer one.
 */
export function mergeState(old: ContainerOverview, s: ContainerState): ContainerOverview {
  if (old.id === s.id && s.since < old.since) return old;
  // Fields a running container no longer has are taken from the new state, present or not.
  return { ...old, ...s, health: s.health, exitCode: s.exitCode, oomKilled: s.oomKilled, exists: s.phase !== 'absent' };
}
