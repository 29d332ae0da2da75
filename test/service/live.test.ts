// Live state in the core: a change re-runs exactly the checks that read the changed fact, at once
// (debounced) rather than at the next sweep; the vault written by another process is seen on disk;
// operations report what they wrote and hold rechecks while they move the container.
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { FactsChanged } from '../../app/contract/events.js';
import { liveFacts } from '../../app/contract/names.js';
import type { CheckStatus } from '../../app/contract/ops/health.js';
import type { HealthCheck } from '../../app/health/check.js';
import { healthChecks } from '../../app/health/checks/index.js';
import { checksDependingOn, checksReading } from '../../app/health/dependencies.js';
import { HealthMonitor } from '../../app/health/monitor.js';
import type { StateChange } from '../../app/health/notifier.js';
import { EventBus } from '../../app/service/bus.js';
import { LiveState } from '../../app/service/live.js';
import type { PanelHandlers } from '../../app/contract/index.js';
import { AUDIT_LOG } from '../../app/tokens/audit-log.js';
import { VAULT_FILE } from '../../app/tokens/vault.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'live-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
afterAll(() => rmSync(home, { recursive: true, force: true }));
const config = parseConfig({ health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 1_000, probeRequests: 5 }, vault: { dir: path.join(home, 'vault') } });

/** Checks with the registry's ids whose status the test sets; each run is counted. */
function fakeChecks() {
  const status = new Map<string, CheckStatus>();
  const runs = new Map<string, number>();
  const checks: HealthCheck[] = healthChecks.map((c) => ({
    id: c.id,
    title: c.title,
    run: async () => {
      runs.set(c.id, (runs.get(c.id) ?? 0) + 1);
      return { status: status.get(c.id) ?? 'ok', message: c.id };
    },
  }));
  return { checks, status, runs, count: (id: string) => runs.get(id) ?? 0 };
}

const monitors: HealthMonitor[] = [];
const lives: LiveState[] = [];
afterEach(async () => {
  lives.splice(0).forEach((l) => l.stop());
  await Promise.all(monitors.splice(0).map((m) => m.stop()));
});

function setup(name: string) {
  const fake = fakeChecks();
  const changes: StateChange[] = [];
  const monitor = new HealthMonitor({
    checks: fake.checks,
    deps: () => ({ config, paths, configFile: paths.configFile }),
    historyFile: path.join(home, `${name}.json`),
    notifier: { notify: (c) => void changes.push(c) },
  });
  monitors.push(monitor);
  const bus = new EventBus();
  const live = new LiveState({ bus, health: monitor, config: () => config, paths });
  lives.push(live);
  const changed: FactsChanged[] = [];
  bus.on('changed', (c) => changed.push(c));
  return { ...fake, monitor, bus, live, changes, changed };
}

describe('which checks read which fact', () => {
  it('every registered check is re-run by at least one fact, and every id named is a registered check', () => {
    const ids = healthChecks.map((c) => c.id);
    for (const fact of liveFacts) {
      const reading = checksReading[fact];
      if (reading !== 'all') for (const id of reading) expect(ids, `${fact}: ${id}`).toContain(id);
    }
    const reached = new Set(liveFacts.filter((f) => f !== 'config').flatMap((f) => checksDependingOn([f], healthChecks)));
    expect(ids.filter((id) => !reached.has(id))).toEqual([]);
    expect(checksDependingOn(['config'], healthChecks)).toEqual(ids);
    expect(checksDependingOn(['runs'], healthChecks)).toEqual(['generation']);
  });
});

describe('HealthMonitor.recheck', () => {
  it('runs only the asked checks, once for a burst of asks, records them and notifies a state change', async () => {
    const s = setup('recheck');
    s.monitor.start(60_000);
    await s.monitor.sweep();
    expect(s.count('container')).toBe(1);
    s.status.set('container', 'fail');
    for (let i = 0; i < 5; i++) s.monitor.recheck(['container', 'docker-health', 'no-such-check']);
    await s.monitor.settled();
    expect(s.count('container')).toBe(2);
    expect(s.count('docker-health')).toBe(2);
    expect(s.count('env-consistency')).toBe(1);
    expect(s.changes.map((c) => `${c.id}:${c.from}>${c.to}`)).toEqual(['container:ok>fail']);
    const status = await s.monitor.status();
    expect(status.checks.find((c) => c.id === 'container')?.status).toBe('fail');
    expect(status.checks.find((c) => c.id === 'container')?.history).toHaveLength(2);
  });

  it('does nothing once stopped', async () => {
    const s = setup('recheck-stopped');
    s.monitor.recheck(['container']);
    await s.monitor.settled();
    expect(s.count('container')).toBe(0);
  });
});

describe('LiveState', () => {
  it('a container state change re-runs the container-bound checks at once; the first state after connecting does not', async () => {
    const s = setup('container');
    s.monitor.start(60_000);
    s.live.start();
    await s.monitor.sweep();
    const state = (phase: 'healthy' | 'stopped') => s.bus.emit('containerState', { name: 'c', id: 'x', phase, since: new Date().toISOString() });
    state('healthy');
    await s.monitor.settled();
    expect(s.count('container')).toBe(1);
    s.status.set('container', 'fail');
    state('stopped');
    state('stopped'); // the same state again: no second recheck
    await s.monitor.settled();
    expect(s.count('container')).toBe(2);
    expect(s.count('auth-accepts-token')).toBe(2);
    expect(s.count('generation')).toBe(1);
    expect(s.count('env-consistency')).toBe(1);
    expect(s.changed).toEqual([]); // containerState itself tells the UI
  });

  it('the vault rewritten by another process re-runs the token checks and tells the UI', async () => {
    const s = setup('vault');
    const dir = path.join(home, 'vault');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, VAULT_FILE), '{"v":1}');
    s.monitor.start(60_000);
    s.live.start();
    await s.monitor.sweep();
    // Give the watcher its first look before the change.
    await new Promise((r) => setTimeout(r, 400));
    // What `comfy-panel token rotate` leaves: a replaced vault file (rename) and an audit line.
    writeFileSync(path.join(dir, `${VAULT_FILE}.tmp`), '{"v":2}');
    renameSync(path.join(dir, `${VAULT_FILE}.tmp`), path.join(dir, VAULT_FILE));
    writeFileSync(path.join(dir, AUDIT_LOG), '{"outcome":"committed"}\n', { flag: 'a' });
    await vi.waitFor(() => expect(s.changed.length).toBeGreaterThan(0), { timeout: 5_000 });
    await s.monitor.settled();
    expect(s.changed[0]).toEqual({ facts: ['vault'], cause: 'file' });
    expect(s.count('token-consistency')).toBe(2);
    expect(s.count('auth-accepts-token')).toBe(2);
    expect(s.count('container')).toBe(1);
    // Unrelated files in the folder (the lock, the journal) are not changes of the vault.
    const before = s.changed.length;
    writeFileSync(path.join(dir, 'rotation.lock'), 'x');
    await new Promise((r) => setTimeout(r, 700));
    expect(s.changed.length).toBe(before);
  });

  it('an operation reports the facts it wrote when it returns or fails, and one that moves the container holds rechecks until done', async () => {
    const s = setup('ops');
    s.monitor.start(60_000);
    s.live.start();
    await s.monitor.sweep();
    let release: () => void = () => undefined;
    const handlers = {
      envSyncApply: async () => {
        throw new Error('disk full');
      },
      containerRestart: () =>
        new Promise((resolve) => {
          release = () => resolve({ name: 'c', phase: 'healthy', since: 'now' });
        }),
    } as unknown as PanelHandlers;
    const wrapped = s.live.wrap(handlers);
    await expect(wrapped.envSyncApply({})).rejects.toThrow('disk full');
    await s.monitor.settled();
    expect(s.changed).toEqual([{ facts: ['env'], cause: 'operation' }]);
    expect(s.count('env-consistency')).toBe(2);

    // During the restart Docker reports the container down: no red flash, the checks run once it returned.
    const restarting = wrapped.containerRestart({});
    s.bus.emit('containerState', { name: 'c', id: 'x', phase: 'healthy', since: 'a' });
    s.bus.emit('containerState', { name: 'c', id: 'x', phase: 'stopped', since: 'b' });
    s.bus.emit('containerState', { name: 'c', id: 'x', phase: 'starting', since: 'c' });
    await new Promise((r) => setTimeout(r, 400));
    await s.monitor.settled();
    expect(s.count('container')).toBe(1);
    release();
    await restarting;
    await vi.waitFor(() => expect(s.count('container')).toBe(2));
    await s.monitor.settled();
    expect(s.changes).toEqual([]);
  });
});
