import { notifyManager, type QueryClient } from '@tanstack/react-query';
import type { CheckResult, ContainerOverview, ContainerState, EventName, FleetStatus, HealthStatusView, OpName, PanelClient, PanelEvents } from '../../../app/contract/index.js';
import { eventNames, opNames } from '../../../app/contract/names.js';
import { mergeState, endsTransition } from '../lib/container.js';
import { patchFleetRow } from '../lib/fleet.js';
import { patchHealth } from '../lib/health.js';
import { checkDependents, coalesce, EVERYTHING, factDependents, invalidates, transitionOf, type Transition } from './effects.js';
import { keyMatches, type InstanceId } from './keys.js';

const slot = (instance: InstanceId) => instance ?? '';

/** The transitional container state each instance shows while an operation moves it. */
export class TransitionStore {
  private readonly current = new Map<string, { kind: Transition; token: number }>();
  private readonly listeners = new Set<() => void>();
  private next = 0;

  get(instance: InstanceId): Transition | undefined {
    return this.current.get(slot(instance))?.kind;
  }

  begin(instance: InstanceId, kind: Transition): number {
    const token = ++this.next;
    this.current.set(slot(instance), { kind, token });
    this.notify();
    return token;
  }

  /** Ends the transition `token` began (a newer one stays); without a token, whichever is on. */
  end(instance: InstanceId, token?: number): void {
    const t = this.current.get(slot(instance));
    if (!t || (token !== undefined && t.token !== token)) return;
    this.current.delete(slot(instance));
    this.notify();
  }

  /** Docker reported a state: it ends the transition when it shows the move has happened. */
  onState(instance: InstanceId, s: ContainerState): void {
    let ended = false;
    for (const [key, t] of this.current) {
      if ((instance === undefined || key === instance || key === '') && endsTransition(t.kind, s)) ended = this.current.delete(key);
    }
    if (ended) this.notify();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  /**
   * Through the query cache's own notification queue: a transition that ends with a state patched
   * into the cache must not reach the screen before that state does, or the stale phase under it
   * (a restart's "stopped") shows for a frame.
   */
  private notify(): void {
    notifyManager.schedule(() => this.listeners.forEach((l) => l()));
  }
}

interface Pending {
  timer: ReturnType<typeof setTimeout>;
  firstAt: number;
  instance: InstanceId;
  op: OpName;
}

export interface MutationTicket {
  name: OpName;
  instance: InstanceId;
  transition?: number;
}

/**
 * The one place pushed events meet the query cache. Each event patches what it carries straight
 * into the cached data (a check's result, the container's phase), then the queries it makes stale
 * are refetched once for a burst of events, not once per event or per card. While an operation
 * that will refetch a query on settling is in flight, events do not refetch it as well.
 */
export class LiveCache {
  readonly transitions = new TransitionStore();
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Map<string, number>();
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly client: Pick<PanelClient, 'on'>,
    private readonly queries: QueryClient,
    private readonly now: () => number = () => Date.now(),
  ) {}

  start(): () => void {
    this.stop();
    this.unsubscribe = eventNames.map((e) => this.client.on(e, (payload, instance) => this.onEvent(e, payload, instance)));
    return () => this.stop();
  }

  stop(): void {
    this.unsubscribe.forEach((u) => u());
    this.unsubscribe = [];
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  onEvent<E extends EventName>(event: E, payload: PanelEvents[E], instance: InstanceId): void {
    const e = { event, payload } as { [K in EventName]: { event: K; payload: PanelEvents[K] } }[EventName];
    switch (e.event) {
      case 'health':
        return this.onHealth(e.payload, instance);
      case 'containerState':
        return this.onContainerState(e.payload, instance);
      case 'rotationStep':
        return this.soon(['tokenAudit', 'tokenHistory', 'envAudit'], instance, coalesce.rotationStep);
      case 'generationProgress':
        if (e.payload.phase === 'done' || e.payload.phase === 'failed') this.soon(['generateHistory', 'generateLatest'], instance, coalesce.generationProgress);
        return;
      case 'changed':
        for (const fact of e.payload.facts) {
          const ops = factDependents[fact];
          this.soon(ops === EVERYTHING ? opNames : ops, instance, coalesce.changed);
        }
        return;
      case 'log':
        return; // the log view's own store, not a query
      case 'configReloaded':
        // Another config is in use: everything shown may have changed (an invalid file changes nothing).
        if (!e.payload.error) void this.queries.invalidateQueries();
        return;
    }
  }

  private onHealth(r: CheckResult, instance: InstanceId): void {
    let newer = false;
    let changed = false;
    this.queries.setQueriesData<HealthStatusView>({ predicate: (q) => keyMatches(q.queryKey, 'healthStatus', instance) }, (view) => {
      if (!view) return view;
      const before = view.checks.find((c) => c.id === r.id);
      const next = patchHealth(view, r);
      if (next !== view) newer = true;
      if (next !== view && before?.status !== r.status) changed = true;
      return next;
    });
    // The view's uptime and last-check time come from the core once the sweep is recorded; a result
    // the cache already has (or no cached view yet: its fetch is under way) needs no refetch.
    if (newer) this.soon(['healthStatus'], instance, coalesce.health);
    if (changed) this.soon(checkDependents[r.id] ?? [], instance, coalesce.health);
    if (instance !== undefined) this.onFleetHealth(r, instance);
  }

  /** The fleet view's row of that instance shows the result at once; a new status refetches the view (its errors, GPU, queue) once per burst. */
  private onFleetHealth(r: CheckResult, instance: string): void {
    let changed = false;
    this.queries.setQueriesData<FleetStatus>({ predicate: (q) => keyMatches(q.queryKey, 'fleetStatus', undefined) }, (fleet) => {
      if (!fleet) return fleet;
      const next = patchFleetRow(fleet, instance, r);
      if (next.statusChanged) changed = true;
      return next.fleet;
    });
    if (changed) this.soon(['fleetStatus'], undefined, coalesce.health);
  }

  private onContainerState(s: ContainerState, instance: InstanceId): void {
    let changed = false;
    this.queries.setQueriesData<ContainerOverview>({ predicate: (q) => keyMatches(q.queryKey, 'containerStatus', instance) }, (old) => {
      if (!old) return old;
      const next = mergeState(old, s);
      if (next !== old && (old.phase !== next.phase || old.health !== next.health || old.id !== next.id)) changed = true;
      return next;
    });
    this.transitions.onState(instance, s);
    // The rest of the overview (login-node facts, stats) is refetched once the state really moved.
    if (changed) this.soon(['containerStatus'], instance, coalesce.containerState);
  }

  /** Refetches `ops` after the burst of events ends (quietMs without another, at most maxMs after the first). */
  private soon(ops: readonly OpName[], instance: InstanceId, { quietMs, maxMs }: { quietMs: number; maxMs: number }): void {
    const now = this.now();
    for (const op of ops) {
      const key = `${op}\n${slot(instance)}`;
      const prev = this.pending.get(key);
      if (prev) clearTimeout(prev.timer);
      const firstAt = prev?.firstAt ?? now;
      const wait = Math.max(0, Math.min(quietMs, firstAt + maxMs - now));
      this.pending.set(key, { timer: setTimeout(() => this.fire(key), wait), firstAt, instance, op });
    }
  }

  private fire(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    // An operation in flight refetches it when it settles: once, with the final state. A call that
    // named no instance is on the default one, which may be the instance this event is about.
    const inflight = (instance: InstanceId) => this.inflight.get(`${p.op}\n${slot(instance)}`) ?? 0;
    if (inflight(p.instance) + (p.instance === undefined ? 0 : inflight(undefined)) > 0) return;
    void this.queries.invalidateQueries({ predicate: (q) => keyMatches(q.queryKey, p.op, p.instance) });
  }

  mutationStarted(name: OpName, instance: InstanceId): MutationTicket {
    for (const op of targetsOf(name)) this.inflight.set(`${op}\n${slot(instance)}`, (this.inflight.get(`${op}\n${slot(instance)}`) ?? 0) + 1);
    const kind = transitionOf[name];
    return { name, instance, ...(kind ? { transition: this.transitions.begin(instance, kind) } : {}) };
  }

  /** Applies what the call returned, ends its transition, and refetches exactly what it changed, once. */
  async mutationSettled(ticket: MutationTicket, result: unknown): Promise<void> {
    const { name, instance } = ticket;
    const targets = targetsOf(name);
    if (ticket.transition !== undefined) {
      const state = containerStateOf(name, result);
      if (state) this.queries.setQueriesData<ContainerOverview>({ predicate: (q) => keyMatches(q.queryKey, 'containerStatus', instance) }, (old) => old && mergeState(old, state));
      this.transitions.end(instance, ticket.transition);
    }
    for (const op of targets) {
      const key = `${op}\n${slot(instance)}`;
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left > 0) this.inflight.set(key, left);
      else this.inflight.delete(key);
      // This refetch covers what events had queued for the same query.
      const p = this.pending.get(key);
      if (p) clearTimeout(p.timer);
      this.pending.delete(key);
    }
    if (invalidates[name] === EVERYTHING) await this.queries.invalidateQueries();
    else await Promise.all(targets.map((op) => this.queries.invalidateQueries({ predicate: (q) => keyMatches(q.queryKey, op, instance) })));
  }
}

/** The queries an operation refetches when it settles (every one for a configuration change). */
function targetsOf(name: OpName): readonly OpName[] {
  const targets = invalidates[name];
  return targets === EVERYTHING ? opNames : targets;
}

/** The container state a lifecycle operation returned (recreate wraps it), if it did. */
function containerStateOf(name: OpName, result: unknown): ContainerState | undefined {
  if (!result || typeof result !== 'object') return undefined;
  if (name === 'containerRecreate') return (result as { state?: ContainerState }).state;
  return name.startsWith('container') ? (result as ContainerState) : undefined;
}
