import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RotationResult } from '../../app/contract/ops/tokens.js';
import { stagedRotation, stagedRotationFile } from '../../app/fleet/staged-rotation.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dataDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'staged-'));
  dirs.push(d);
  return d;
};

const ids = ['a', 'b', 'c', 'd', 'e'];
const result = (id: string, ok: boolean): RotationResult => ({
  ok,
  rotationId: `r-${id}`,
  kind: 'rotate',
  fingerprint: ok ? `fp:new-${id}` : `fp:old-${id}`,
  steps: [],
  outcome: ok ? 'committed' : 'rolled-back',
  ...(ok ? {} : { failedStep: 'verify', error: 'the new token was refused: $2b$12$abcdefghijklmnopqrstuuVWXYZabcdefghijklmnopqrstuvwxyz01' }),
});

/** Records the order and overlap of rotations; `failing` roll back. */
function fakeFleet(failing: Set<string>) {
  const calls: string[][] = [];
  let wave: string[] = [];
  let running = 0;
  const rotate = async (id: string) => {
    if (running === 0) calls.push((wave = []));
    running++;
    wave.push(id);
    await new Promise((r) => setTimeout(r, 10));
    running--;
    return result(id, !failing.has(id));
  };
  return { calls, rotate };
}

describe('a staged rotation', () => {
  it('rotates the canary alone, then waves of N, and halts at the first failure leaving the rest untouched', async () => {
    const dir = dataDir();
    const f = fakeFleet(new Set(['c']));
    const r = await stagedRotation({ ids, canary: 'b', wave: 2, resume: false, dataDir: dir, rotate: f.rotate });
    // b alone, then [a, c] at once; c failed, so [d, e] never started.
    expect(f.calls).toEqual([['b'], ['a', 'c']]);
    expect(r.halted).toBe(true);
    expect(r.haltedAt).toBe('c');
    expect(r.instances.map((i) => [i.id, i.wave, i.outcome])).toEqual([
      ['b', 0, 'committed'],
      ['a', 1, 'committed'],
      ['c', 1, 'rolled-back'],
      ['d', 2, 'not-started'],
      ['e', 2, 'not-started'],
    ]);
    expect(r.instances[2]!.fingerprint).toBe('fp:old-c');
    // The error is kept for the table, never a token.
    expect(r.instances[2]!.error).toMatch(/refused/);
    expect(JSON.stringify(r)).not.toContain('$2b$');
    expect(readFileSync(stagedRotationFile(dir), 'utf8')).not.toContain('$2b$');
  });

  it('resumes where it halted: the failed instance and the later waves, never the committed ones', async () => {
    const dir = dataDir();
    const first = await stagedRotation({ ids, wave: 1, resume: false, dataDir: dir, rotate: fakeFleet(new Set(['c'])).rotate });
    expect(first.haltedAt).toBe('c');
    const again = fakeFleet(new Set());
    const r = await stagedRotation({ ids, wave: 1, resume: true, dataDir: dir, rotate: again.rotate });
    expect(again.calls.flat()).toEqual(['c', 'd', 'e']);
    expect(r.rotationId).toBe(first.rotationId);
    expect(r.halted).toBe(false);
    expect(r.haltedAt).toBeNull();
    expect(r.instances.every((i) => i.outcome === 'committed')).toBe(true);
    // Finished: nothing is left to resume.
    await expect(stagedRotation({ ids, wave: 1, resume: true, dataDir: dir, rotate: again.rotate })).rejects.toThrow(/no staged rotation to resume/);
  });

  it('counts a rotation that throws as a failure, and refuses a canary that is no instance', async () => {
    const dir = dataDir();
    const r = await stagedRotation({
      ids,
      wave: 10,
      resume: false,
      dataDir: dir,
      rotate: async (id) => {
        if (id === 'a') throw new Error('engine unreachable');
        return result(id, true);
      },
    });
    expect(r).toMatchObject({ halted: true, haltedAt: 'a' });
    expect(r.instances.filter((i) => i.outcome === 'not-started')).toHaveLength(4);
    await expect(stagedRotation({ ids, canary: 'zz', wave: 1, resume: false, dataDir: dir, rotate: async (id) => result(id, true) })).rejects.toThrow(/--canary zz: not an instance/);
  });
});
