// The fleet view's small rules: which instance is shown (the URL's when it is in the fleet, else the
// first; none with one instance), the link to an instance's page, and a pushed result on its row.
import { describe, expect, it } from 'vitest';
import type { FleetStatus } from '../../app/contract/index.js';
import { instanceHref, patchFleetRow, selectInstance } from '../../renderer/src/lib/fleet.js';

const fleet = (...ids: string[]) => ids.map((id) => ({ id, label: id }));

describe('the instance shown', () => {
  it('is none with one instance, so calls and keys stay as they were', () => {
    expect(selectInstance(fleet('default'), 'default')).toBeUndefined();
    expect(selectInstance(undefined, 'b')).toBeUndefined();
  });

  it("is the URL's when the fleet has it, else the first", () => {
    expect(selectInstance(fleet('a', 'b', 'c'), 'b')).toBe('b');
    expect(selectInstance(fleet('a', 'b', 'c'), null)).toBe('a');
    expect(selectInstance(fleet('a', 'b', 'c'), 'gone')).toBe('a');
  });

  it("links keep the page's path and other parameters, and replace the instance and the page", () => {
    expect(instanceHref('http://127.0.0.1:9/?instance=a&x=1#/tokens', 'b', 'dashboard')).toBe('/?instance=b&x=1#/dashboard');
    expect(instanceHref('http://127.0.0.1:9/', 'c', 'fleet')).toBe('/?instance=c#/fleet');
  });
});

describe('a pushed result on the fleet view', () => {
  const view: FleetStatus = {
    at: 'now',
    instances: ['a', 'b'].map((id) => ({ id, label: id, engine: 'e', checks: [{ id: 'docker', status: 'ok', message: 'up' }], tokenCreatedAt: null, lastGeneration: null })),
  };
  const r = (status: 'ok' | 'fail', message: string, id = 'docker') => ({ id, status, message, latencyMs: 1, checkedAt: 't' });

  it('replaces only its row; a new message alone is no status change', () => {
    const failed = patchFleetRow(view, 'b', r('fail', 'down'));
    expect(failed.statusChanged).toBe(true);
    expect(failed.fleet.instances[0]).toBe(view.instances[0]);
    expect(failed.fleet.instances[1]!.checks).toEqual([{ id: 'docker', status: 'fail', message: 'down' }]);
    const reworded = patchFleetRow(view, 'a', r('ok', 'up, 3 ms'));
    expect(reworded).toMatchObject({ statusChanged: false });
    expect(reworded.fleet.instances[0]!.checks[0]!.message).toBe('up, 3 ms');
  });

  it('adds a check the row did not have yet, and leaves the view alone for an unknown instance or a known result', () => {
    expect(patchFleetRow(view, 'a', r('ok', 'fine', 'gpu')).fleet.instances[0]!.checks.map((c) => c.id)).toEqual(['docker', 'gpu']);
    expect(patchFleetRow(view, 'zz', r('fail', 'down')).fleet).toBe(view);
    expect(patchFleetRow(view, 'a', r('ok', 'up')).fleet).toBe(view);
  });
});
