// The dashboard's pure rules: the headline never hides Unknown, a pushed result patches the
// cached view (uptime stays the core's), incidents and latency from the strip, and which pushed
// result is a state change worth a notification (per instance in a fleet).
import { describe, expect, it } from 'vitest';
import type { CheckResult, HealthStatusView, HistoryPoint } from '../../app/contract/index.js';
import { CheckStates, HISTORY_SLOTS, checkTitle, incidents, latencyStats, patchHealth, summarize } from '../../renderer/src/lib/health.js';

const checks = (statuses: Record<string, 'ok' | 'warn' | 'fail' | 'unknown'>) => Object.entries(statuses).map(([id, status]) => ({ id, status }));

describe('the headline', () => {
  it('counts and names Unknown checks instead of calling the rest OK', () => {
    const s = summarize(checks({ docker: 'ok', container: 'ok', 'docker-health': 'unknown', 'login-node': 'unknown', 'auth-accepts-token': 'unknown', 'auth-rejects-anonymous': 'unknown', generation: 'unknown', gpu: 'warn' }));
    expect(s.headline).toBe('5 of 8 checks unknown, 1 warning; none failing');
    expect(s.headline).not.toContain('OK');
    expect(s.light).toBe('unknown');
    expect(s.groups.map((g) => [g.word, g.ids])).toEqual([
      ['Unknown', ['docker-health', 'login-node', 'auth-accepts-token', 'auth-rejects-anonymous', 'generation']],
      ['Warning', ['gpu']],
    ]);
  });

  it('puts failures first and still counts the unknown and warnings', () => {
    const s = summarize(checks({ docker: 'ok', container: 'fail', 'login-node': 'unknown', gpu: 'warn' }));
    expect(s).toMatchObject({ light: 'fail', headline: '1 of 4 checks failing, 1 unknown, 1 warning' });
    expect(s.groups.map((g) => g.status)).toEqual(['fail', 'unknown', 'warn']);
  });

  it('says OK only when every check is OK, and warnings when those are all there is', () => {
    expect(summarize(checks({ a: 'ok', b: 'ok' }))).toEqual({ light: 'ok', headline: 'All 2 checks OK', groups: [] });
    expect(summarize(checks({ a: 'ok', b: 'warn', c: 'warn' }))).toMatchObject({ light: 'warn', headline: 'No check failing, 2 warnings' });
    expect(summarize([])).toMatchObject({ light: 'unknown', headline: 'No checks have run yet' });
  });

  it('shows human titles, and an id it does not know as itself', () => {
    expect(checkTitle('auth-rejects-anonymous')).toBe('Anonymous requests refused');
    expect(checkTitle('some-new-check')).toBe('some-new-check');
  });
});

const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 12, min)).toISOString();
const point = (min: number, status: HistoryPoint['status'], message: string = status, latencyMs = 10): HistoryPoint => ({ status, checkedAt: at(min), latencyMs, message });

function view(history: HistoryPoint[]): HealthStatusView {
  const last = history.at(-1)!;
  return {
    checks: [{ id: 'container', status: last.status, latencyMs: last.latencyMs, checkedAt: last.checkedAt, message: last.message, fix: { text: 'Start it', action: 'containerStart' }, history, uptime24h: 80 }],
    lastCheckAt: last.checkedAt,
    nextCheckAt: null,
    intervalSec: 60,
    monitoring: true,
  };
}

describe('a pushed result patched into the cached view', () => {
  it('replaces the result, appends to the strip and keeps the core uptime', () => {
    const before = view([point(0, 'fail', 'stopped')]);
    const r: CheckResult = { id: 'container', status: 'ok', latencyMs: 42, checkedAt: at(1), message: 'running' };
    const after = patchHealth(before, r);
    const c = after.checks[0]!;
    expect(c).toMatchObject({ status: 'ok', message: 'running', latencyMs: 42, uptime24h: 80 });
    // The old result's fix does not stick to the new one.
    expect(c.fix).toBeUndefined();
    expect(c.history.map((p) => p.status)).toEqual(['fail', 'ok']);
    expect(c.history.at(-1)).toEqual({ status: 'ok', checkedAt: at(1), latencyMs: 42, message: 'running' });
    expect(after.lastCheckAt).toBe(at(1));
  });

  it('ignores a result the view already has or an older one, keeping the same object', () => {
    const before = view([point(5, 'ok')]);
    expect(patchHealth(before, { id: 'container', status: 'fail', latencyMs: 1, checkedAt: at(5), message: 'x' })).toBe(before);
    expect(patchHealth(before, { id: 'container', status: 'fail', latencyMs: 1, checkedAt: at(4), message: 'x' })).toBe(before);
  });

  it('keeps the strip at its length and adds a check the view did not have yet', () => {
    const long = view(Array.from({ length: HISTORY_SLOTS }, (_, i) => point(i, 'ok')));
    const after = patchHealth(long, { id: 'container', status: 'ok', latencyMs: 1, checkedAt: at(HISTORY_SLOTS), message: 'ok' });
    expect(after.checks[0]!.history).toHaveLength(HISTORY_SLOTS);
    const added = patchHealth(long, { id: 'gpu', status: 'warn', latencyMs: 3, checkedAt: at(1), message: 'no GPU' });
    expect(added.checks.map((c) => c.id)).toEqual(['container', 'gpu']);
    expect(added.checks[1]).toMatchObject({ uptime24h: null, history: [{ status: 'warn' }] });
  });
});

describe('incidents and latency from the strip', () => {
  it('finds each stretch of failures, newest first, with what it said and how it ended', () => {
    const strip = [point(0, 'ok'), point(1, 'fail', 'stopped'), point(2, 'fail', 'still stopped'), point(3, 'ok', 'running again'), point(4, 'unknown'), point(5, 'fail', 'crashed')];
    expect(incidents(strip)).toEqual([
      { from: at(5), results: 1, message: 'crashed' },
      { from: at(1), to: at(3), results: 2, message: 'stopped', endedBy: { status: 'ok', message: 'running again', checkedAt: at(3) } },
    ]);
    expect(incidents([point(0, 'ok'), point(1, 'warn')])).toEqual([]);
  });

  it('gives the median and the maximum latency', () => {
    expect(latencyStats([point(0, 'ok', '', 30), point(1, 'ok', '', 10), point(2, 'ok', '', 90)])).toEqual({ median: 30, max: 90 });
    expect(latencyStats([])).toBeUndefined();
  });
});

describe('state changes worth a notification', () => {
  const result = (id: string, status: 'ok' | 'fail', message = `${id} is ${status}`) => ({ id, status, message, fix: { text: 'Start the container' } });

  it('a first result is none; a change after the seed is one, with the fix when it is not OK', () => {
    const states = new CheckStates();
    expect(states.change(undefined, result('gpu', 'fail'))).toBeUndefined();
    states.seed(undefined, [{ id: 'container', status: 'ok' }]);
    expect(states.change(undefined, result('container', 'ok'))).toBeUndefined();
    expect(states.change(undefined, result('container', 'fail'))).toEqual({ title: 'Container running: OK → Failing', body: 'container is fail\nFix: Start the container', tag: 'check-container', silent: false });
    expect(states.change(undefined, result('container', 'fail'))).toBeUndefined();
    expect(states.change(undefined, result('container', 'ok'))).toMatchObject({ title: 'Container running: Failing → OK', body: 'container is ok', silent: true });
  });

  it('a seed never overwrites a newer pushed state', () => {
    const states = new CheckStates();
    states.seed(undefined, [{ id: 'docker', status: 'ok' }]);
    states.change(undefined, result('docker', 'fail'));
    states.seed(undefined, [{ id: 'docker', status: 'ok' }]); // a read that was in flight
    expect(states.change(undefined, result('docker', 'ok'))?.title).toBe('Docker engine: Failing → OK');
  });

  it("in a fleet each instance's checks are its own, named by its label, one tag per instance and check", () => {
    const states = new CheckStates();
    states.seed('a', [{ id: 'container', status: 'ok' }]);
    states.seed('b', [{ id: 'container', status: 'fail' }]);
    expect(states.change('b', result('container', 'fail'), 'Beta box')).toBeUndefined();
    const a = states.change('a', result('container', 'fail'), 'Alpha box');
    expect(a).toMatchObject({ title: 'Alpha box · Container running: OK → Failing', tag: 'check-a-container' });
  });
});
