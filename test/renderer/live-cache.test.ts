// The renderer's query layer without a browser: TanStack's own QueryClient, a fake event source,
// and fetch counters. One fetch per change, not per event or per card; an operation's own refetch
// replaces the events'; instance ids filter what an event touches; transitions end on Docker's word.
import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult, ContainerOverview, EventName, FleetRow, FleetStatus, HealthStatusView, PanelEvents } from '../../app/contract/index.js';
import { LiveCache } from '../../renderer/src/api/live.js';
import { callInput, opKey } from '../../renderer/src/api/keys.js';
import { patchHealth } from '../../renderer/src/lib/health.js';

type Listener = (payload: never, instance: string | undefined) => void;

function fakeEvents() {
  const listeners = new Map<string, Set<Listener>>();
  return {
    on<E extends EventName>(event: E, l: (p: PanelEvents[E], instance: string | undefined) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(l);
      return () => void set.delete(l);
    },
    emit<E extends EventName>(event: E, payload: PanelEvents[E], instance?: string) {
      listeners.get(event)?.forEach((l) => (l as (p: unknown, instance: string | undefined) => void)(payload, instance));
    },
  };
}

const result = (id: string, status: CheckResult['status'], second: number): CheckResult => ({ id, status, latencyMs: 5, checkedAt: new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString(), message: status });

const healthView = (second: number, status: CheckResult['status'] = 'ok'): HealthStatusView => ({
  checks: ['docker', 'token-consistency'].map((id) => ({ ...result(id, status, second), history: [], uptime24h: 99 })),
  lastCheckAt: null,
  nextCheckAt: null,
  intervalSec: 60,
  monitoring: true,
});

const overview = (phase: ContainerOverview['phase'], since: string): ContainerOverview =>
  ({ name: 'c', phase, since, id: 'x', health: phase === 'healthy' ? 'healthy' : 'none', exists: true, managed: true, adopted: false, ports: [], labels: {} }) as unknown as ContainerOverview;

let queries: QueryClient;
let events: ReturnType<typeof fakeEvents>;
let live: LiveCache;
const fetches = new Map<string, number>();
const observers: (() => void)[] = [];

/** An active query (a mounted card) whose fetches are counted. */
async function watch<T>(key: readonly unknown[], data: () => T): Promise<void> {
  const name = `${String(key[0])}${JSON.stringify(key[1])}`;
  const observer = new QueryObserver(queries, {
    queryKey: key,
    queryFn: () => {
      fetches.set(name, (fetches.get(name) ?? 0) + 1);
      return data();
    },
    staleTime: Infinity,
  });
  observers.push(observer.subscribe(() => undefined));
  await vi.waitFor(() => expect(observer.getCurrentResult().isSuccess).toBe(true));
}
const count = (key: readonly unknown[]) => fetches.get(`${String(key[0])}${JSON.stringify(key[1])}`) ?? 0;

beforeEach(() => {
  queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  events = fakeEvents();
  live = new LiveCache(events, queries);
  live.start();
  fetches.clear();
});
afterEach(() => {
  observers.splice(0).forEach((u) => u());
  live.stop();
  queries.clear();
  vi.useRealTimers();
});

const settle = async (ms: number) => {
  await vi.advanceTimersByTimeAsync(ms);
};

describe('events and the query cache', () => {
  it('a sweep of health events is patched into the view at once and fetched once, after the burst', async () => {
    const key = opKey('healthStatus', {}, undefined);
    // The core's view: it records each result it sends.
    let core = healthView(0);
    const send = (r: CheckResult) => {
      core = patchHealth(core, r);
      events.emit('health', r);
    };
    // Two cards reading the same state share one entry and one fetch.
    await watch(key, () => core);
    await watch(key, () => core);
    expect(count(key)).toBe(1);
    vi.useFakeTimers();
    for (let i = 1; i <= 11; i++) send(result('docker', 'ok', i));
    // The tile shows the new result before any fetch.
    expect(queries.getQueryData<HealthStatusView>(key)!.checks[0]!.checkedAt).toBe(result('docker', 'ok', 11).checkedAt);
    await settle(5_000);
    expect(count(key)).toBe(2);
    // An event the view already has changes nothing and fetches nothing.
    events.emit('health', result('docker', 'ok', 1));
    await settle(5_000);
    expect(count(key)).toBe(2);
  });

  it('refetches what depends on a check only when its status changes', async () => {
    const health = opKey('healthStatus', {}, undefined);
    const audit = opKey('tokenAudit', {}, undefined);
    await watch(health, () => healthView(0));
    await watch(audit, () => ({ consistent: true }));
    vi.useFakeTimers();
    events.emit('health', result('token-consistency', 'ok', 1));
    await settle(5_000);
    expect(count(audit)).toBe(1);
    events.emit('health', result('token-consistency', 'fail', 2));
    await settle(5_000);
    expect(count(audit)).toBe(2);
  });

  it('an operation in flight keeps events from refetching what it will refetch itself, once, when it settles', async () => {
    const health = opKey('healthStatus', {}, undefined);
    await watch(health, () => healthView(0));
    vi.useFakeTimers();
    const ticket = live.mutationStarted('healthRun', undefined);
    for (let i = 1; i <= 11; i++) events.emit('health', result('docker', 'ok', i));
    await settle(5_000);
    expect(count(health)).toBe(1);
    await live.mutationSettled(ticket, { ok: true });
    await settle(5_000);
    expect(count(health)).toBe(2);
  });

  it('a call that named no instance holds back the events the core tags with the default instance\'s id', async () => {
    const health = opKey('healthStatus', {}, undefined);
    await watch(health, () => healthView(0));
    vi.useFakeTimers();
    const ticket = live.mutationStarted('healthRun', undefined);
    for (let i = 1; i <= 11; i++) events.emit('health', result('docker', 'ok', i), 'default');
    await settle(5_000);
    expect(count(health)).toBe(1);
    await live.mutationSettled(ticket, { ok: true });
    await settle(5_000);
    expect(count(health)).toBe(2);
  });

  it('a changed fact (the CLI rewrote the vault) refetches exactly what reads it, once per burst', async () => {
    const audit = opKey('tokenAudit', {}, undefined);
    const history = opKey('tokenHistory', { limit: 20 }, undefined);
    const env = opKey('envAudit', {}, undefined);
    await watch(audit, () => ({ consistent: true }));
    await watch(history, () => ({ entries: [] }));
    await watch(env, () => ({ findings: [] }));
    vi.useFakeTimers();
    // The vault's credential and its audit log are two files: two reports, one refetch.
    events.emit('changed', { facts: ['vault'], cause: 'file' });
    events.emit('changed', { facts: ['vault'], cause: 'file' });
    await settle(5_000);
    expect([count(audit), count(history), count(env)]).toEqual([2, 2, 1]);
    events.emit('changed', { facts: ['env'], cause: 'operation' });
    await settle(5_000);
    expect([count(audit), count(history), count(env)]).toEqual([3, 2, 2]);
  });

  it('a saved configuration refetches everything once: its own change event does not add a second round', async () => {
    const audit = opKey('tokenAudit', {}, undefined);
    const health = opKey('healthStatus', {}, undefined);
    await watch(audit, () => ({ consistent: true }));
    await watch(health, () => healthView(0));
    vi.useFakeTimers();
    const ticket = live.mutationStarted('configSave', undefined);
    events.emit('changed', { facts: ['config'], cause: 'operation' });
    await settle(5_000);
    expect([count(audit), count(health)]).toEqual([1, 1]);
    await live.mutationSettled(ticket, {});
    await settle(5_000);
    expect([count(audit), count(health)]).toEqual([2, 2]);
    // Another window saved it: every query is refetched once.
    events.emit('changed', { facts: ['config'], cause: 'file' });
    await settle(5_000);
    expect([count(audit), count(health)]).toEqual([3, 3]);
  });

  it('a container state is merged at once, an older one is not, and one that changes nothing fetches nothing', async () => {
    const key = opKey('containerStatus', {}, undefined);
    await watch(key, () => overview('healthy', '2026-01-01T12:00:00Z'));
    vi.useFakeTimers();
    events.emit('containerState', { name: 'c', phase: 'healthy', health: 'healthy', id: 'x', since: '2026-01-01T12:00:00Z' });
    await settle(2_000);
    expect(count(key)).toBe(1);
    events.emit('containerState', { name: 'c', phase: 'stopped', id: 'x', since: '2026-01-01T12:05:00Z' });
    expect(queries.getQueryData<ContainerOverview>(key)!.phase).toBe('stopped');
    events.emit('containerState', { name: 'c', phase: 'healthy', id: 'x', since: '2026-01-01T11:00:00Z' });
    expect(queries.getQueryData<ContainerOverview>(key)!.phase).toBe('stopped');
    await settle(2_000);
    expect(count(key)).toBe(2);
  });

  it('an event about one instance touches that instance and the default, not another', async () => {
    const a = opKey('containerStatus', {}, 'a');
    const b = opKey('containerStatus', {}, 'b');
    expect(a[1]).toEqual({ instance: 'a' });
    expect(opKey('containerStatus', {}, undefined)[1]).toEqual({});
    let coreA = overview('healthy', '2026-01-01T12:00:00Z');
    await watch(a, () => coreA);
    await watch(b, () => overview('healthy', '2026-01-01T12:00:00Z'));
    vi.useFakeTimers();
    coreA = overview('stopped', '2026-01-01T12:05:00Z');
    events.emit('containerState', { name: 'c', phase: 'stopped', id: 'x', since: '2026-01-01T12:05:00Z' }, 'a');
    await settle(2_000);
    expect(queries.getQueryData<ContainerOverview>(a)!.phase).toBe('stopped');
    expect(queries.getQueryData<ContainerOverview>(b)!.phase).toBe('healthy');
    expect([count(a), count(b)]).toEqual([2, 1]);
  });
});

const fleetRow = (id: string, status: CheckResult['status'] = 'ok'): FleetRow => ({
  id,
  label: id,
  engine: 'unix:///var/run/docker.sock',
  checks: [{ id: 'docker', status, message: status }],
  tokenCreatedAt: null,
  lastGeneration: null,
});
const fleetView = (rows: FleetRow[]): FleetStatus => ({ instances: rows, at: '2026-01-01T12:00:00Z' });

describe('the fleet', () => {
  it('switching instance changes the instance of every call and cache key; the fleet-wide operations stay one entry', () => {
    expect(callInput('tokenRotate', {}, 'a')).toEqual({ instance: 'a' });
    expect(callInput('tokenRotate', {}, 'b')).toEqual({ instance: 'b' });
    expect(callInput('tokenHistory', { limit: 5 }, 'b')).toEqual({ limit: 5, instance: 'b' });
    expect(opKey('healthStatus', {}, 'a')).not.toEqual(opKey('healthStatus', {}, 'b'));
    // One instance: calls and keys exactly as before the fleet.
    expect(callInput('tokenRotate', {}, undefined)).toEqual({});
    for (const op of ['appInfo', 'fleetStatus', 'fleetRotate', 'configGet'] as const) {
      expect(callInput(op, {}, 'b'), op).toEqual({});
      expect(opKey(op, {}, 'a'), op).toEqual(opKey(op, {}, 'b'));
    }
  });

  it("a page switched to another instance finds none of the first one's data in the cache", async () => {
    await watch(opKey('healthStatus', {}, 'a'), () => healthView(0, 'fail'));
    expect(queries.getQueryData(opKey('healthStatus', {}, 'b'))).toBeUndefined();
  });

  it("a result about b patches b's view and b's fleet row only, and refetches the fleet view once per burst", async () => {
    const a = opKey('healthStatus', {}, 'a');
    const b = opKey('healthStatus', {}, 'b');
    const fleet = opKey('fleetStatus', {}, 'a');
    await watch(a, () => healthView(0));
    await watch(b, () => healthView(0));
    await watch(fleet, () => fleetView([fleetRow('a'), fleetRow('b')]));
    const rowA = queries.getQueryData<FleetStatus>(fleet)!.instances[0];
    vi.useFakeTimers();
    events.emit('health', result('docker', 'fail', 1), 'b');
    expect(queries.getQueryData<HealthStatusView>(a)!.checks[0]!.status).toBe('ok');
    expect(queries.getQueryData<HealthStatusView>(b)!.checks[0]!.status).toBe('fail');
    const shown = queries.getQueryData<FleetStatus>(fleet)!;
    expect(shown.instances[1]!.checks[0]!.status).toBe('fail');
    // Row a keeps its object: its memoized rendering is skipped.
    expect(shown.instances[0]).toBe(rowA);
    // More results of the same sweep, from both instances: one refetch of the fleet view.
    for (let i = 2; i <= 8; i++) events.emit('health', result('docker', i % 2 ? 'ok' : 'fail', i), i % 2 ? 'a' : 'b');
    await settle(5_000);
    expect([count(a), count(b), count(fleet)]).toEqual([2, 2, 2]);
  });

  it('a result the fleet row already shows changes nothing and fetches nothing', async () => {
    const fleet = opKey('fleetStatus', {}, undefined);
    await watch(fleet, () => fleetView([fleetRow('a'), fleetRow('b')]));
    const before = queries.getQueryData<FleetStatus>(fleet);
    vi.useFakeTimers();
    events.emit('health', { ...result('docker', 'ok', 1), message: 'ok' }, 'a');
    await settle(5_000);
    expect(queries.getQueryData<FleetStatus>(fleet)).toBe(before);
    expect(count(fleet)).toBe(1);
  });
});

describe('transitions', () => {
  it('Start shows "starting" until Docker reports; Restart is not ended by the stop half; Stop ends once down', () => {
    const t = live.transitions;
    const start = live.mutationStarted('containerStart', undefined);
    expect(t.get(undefined)).toBe('starting');
    events.emit('containerState', { name: 'c', phase: 'starting', health: 'starting', since: 'x' });
    expect(t.get(undefined)).toBeUndefined();
    void start;

    live.mutationStarted('containerRestart', undefined);
    events.emit('containerState', { name: 'c', phase: 'stopped', since: 'x' });
    expect(t.get(undefined)).toBe('restarting');
    events.emit('containerState', { name: 'c', phase: 'starting', since: 'y' });
    expect(t.get(undefined)).toBeUndefined();

    const stop = live.mutationStarted('containerStop', undefined);
    events.emit('containerState', { name: 'c', phase: 'healthy', since: 'z' });
    expect(t.get(undefined)).toBe('stopping');
    void live.mutationSettled(stop, { name: 'c', phase: 'stopped', since: 'z2' });
    expect(t.get(undefined)).toBeUndefined();
  });

  it('a settled operation writes the state it returned into the cached status', async () => {
    const key = opKey('containerStatus', {}, undefined);
    await watch(key, () => overview('stopped', '2026-01-01T12:00:00Z'));
    const ticket = live.mutationStarted('containerStart', undefined);
    // Before the refetch it also starts has answered, the returned state is what the card shows.
    const settled = live.mutationSettled(ticket, { name: 'c', phase: 'starting', health: 'starting', id: 'x', since: '2026-01-01T12:01:00Z' });
    expect(live.transitions.get(undefined)).toBeUndefined();
    expect(queries.getQueryData<ContainerOverview>(key)!.phase).toBe('starting');
    await settled;
    expect(count(key)).toBe(2);
  });
});
