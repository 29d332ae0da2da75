/**
 * Fault injection (issue 8 item 1): a failure at every step of a credential rotation and of
 * an env sync, many times over, must end fully old or fully new everywhere and lose no file.
 * FAULTS_SEED replays a sequence; the tally goes to stdout and test-results/faults.json.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../support/docker.js';
import { useFastBcrypt } from '../tokens/support.js';
import { CONTAINER_FAULTS, containerRun, createContainerRig, type ContainerRig } from './container-rig.js';
import type { FaultPlan } from './inject.js';
import { TARGETS } from './rig.js';
import { envRun, killedSyncRun, type EnvFault } from './env-runs.js';
import { killedRotationRun, rotationRun, type RotationFault } from './rotation-runs.js';
import { Tally } from './tally.js';

useFastBcrypt();
const d = await requireDocker();

const SEED = Number(process.env.FAULTS_SEED ?? 20261124);
const ROTATION_RUNS = 200;
const tally = new Tally();
let root: string;
let runNo = 0;
const nextBase = () => path.join(root, `run-${++runNo}`);

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const expectAllGood = (family: string) => {
  const c = tally.counts(family);
  expect(tally.failures(family), JSON.stringify(tally.failures(family).slice(0, 5), null, 1)).toEqual([]);
  expect(c.consistent).toBe(c.runs);
  expect(c.lostFiles).toBe(0);
};

const LOCATION_NAMES = ['container', 'secret-file', ...TARGETS.map((t) => `env:${t.path}`)];
const phase = fc.constantFrom<FaultPlan['phase']>('before', 'after');

/** Dependency calls of a rotation without faults, with and without a secret file (one location more), measured first. */
const calls = { withSecretFile: 0, without: 0 };
const callsOf = (secretFile: boolean) => (secretFile ? calls.withSecretFile : calls.without);

describe('rotation, in process: a dependency fails at every call, then at random calls', () => {
  const family = 'rotation in-process';

  it('runs without faults commit and tell how many dependency calls a rotation makes', async () => {
    for (const secretFile of [true, false]) {
      const run = await rotationRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, secretFile });
      tally.add(family, run);
      expect(run.ended).toBe('new');
      expect(run.trace).toContain('server.restart');
      calls[secretFile ? 'withSecretFile' : 'without'] = run.trace.length;
    }
    expect(calls.withSecretFile).toBe(calls.without + 3); // its snapshot, its write and its re-read before the commit
  });

  it('each call k fails once or for good, before or after its effect', async () => {
    for (const secretFile of [true, false]) {
      for (let k = 1; k <= callsOf(secretFile); k++) {
        for (const [p, persist] of [['before', false], ['after', false], ['before', true], ['after', true]] as const) {
          tally.add(family, await rotationRun(nextBase(), { plan: { at: [k], phase: p, persist }, secretFile }));
        }
      }
    }
  }, 360_000);

  it('each target refuses writes in turn (full disk), with and without the secret file', async () => {
    for (const readOnly of [...LOCATION_NAMES, 'vault']) {
      for (const secretFile of readOnly === 'secret-file' ? [true] : [true, false]) {
        tally.add(family, await rotationRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, readOnly, secretFile }));
      }
    }
  }, 120_000);

  it('random sequences: up to three failing calls (rollback steps included), read-only targets mixed in', async () => {
    const remaining = ROTATION_RUNS - tally.counts(family).runs;
    const scenarios = fc.sample(
      fc.record<RotationFault>({
        plan: fc.record({ at: fc.uniqueArray(fc.integer({ min: 1, max: calls.withSecretFile + 12 }), { minLength: 1, maxLength: 3 }), phase, persist: fc.boolean() }),
        readOnly: fc.option(fc.constantFrom(...LOCATION_NAMES), { nil: undefined, freq: 4 }),
        secretFile: fc.boolean(),
      }),
      { seed: SEED, numRuns: Math.max(remaining, 40) },
    );
    // a read-only secret file needs one; without a read-only target, the plan's calls fail
    for (const s of scenarios) tally.add(family, await rotationRun(nextBase(), s.readOnly === undefined ? { plan: s.plan, secretFile: s.secretFile } : { ...s, secretFile: s.secretFile || s.readOnly === 'secret-file' }));
    expectAllGood(family);
    // the faults reached both sides: runs rolled back to the old credential and runs committed to a new one
    expect(new Set(tally.endings(family))).toEqual(new Set(['old', 'new']));
    expect(tally.counts(family).runs).toBeGreaterThanOrEqual(ROTATION_RUNS);
  }, 240_000);
});

describe('rotation vs env sync, in process: a sync starts after every dependency call of a rotation', () => {
  const family = 'rotation vs env sync';

  it('the shipped (locked) sync is refused at every call; an unlocked writer before the re-read makes the rotation roll back', async () => {
    const clean = await rotationRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, secretFile: true });
    // The re-read before the commit starts at the first location read: an unlocked writer after it can only be stopped by the lock.
    const firstRead = clean.trace.findIndex((l) => l.endsWith('.read')) + 1;
    expect(firstRead).toBeGreaterThan(1);
    for (let k = 1; k <= clean.trace.length; k++) {
      tally.add(family, await rotationRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, secretFile: true, concurrentSync: { at: k, mode: 'locked' } }));
      if (k < firstRead) tally.add(family, await rotationRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, secretFile: true, concurrentSync: { at: k, mode: 'unlocked' } }));
    }
    expectAllGood(family);
    expect(new Set(tally.endings(family))).toEqual(new Set(['old', 'new']));
  }, 240_000);
});

describe('env sync, in process: a write fails, tears, or its target is read-only', () => {
  const family = 'env sync in-process';
  const n = TARGETS.length;

  it('every write k fails before or after, tears, and every target is read-only in turn', async () => {
    for (let k = 1; k <= n; k++) {
      for (const p of ['before', 'after'] as const) tally.add(family, await envRun(nextBase(), { plan: { at: [k], phase: p, persist: false } }));
      tally.add(family, await envRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, torn: k }));
      tally.add(family, await envRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, readOnly: k - 1 }));
      tally.add(family, await envRun(nextBase(), { plan: { at: [], phase: 'before', persist: false }, diskFullAfter: k }));
    }
  }, 120_000);

  it('random sequences', async () => {
    const scenarios = fc.sample(
      fc.record<EnvFault>({
        plan: fc.record({ at: fc.uniqueArray(fc.integer({ min: 1, max: n }), { maxLength: 2 }), phase, persist: fc.boolean() }),
        torn: fc.option(fc.integer({ min: 1, max: n }), { nil: undefined }),
        readOnly: fc.option(fc.integer({ min: 0, max: n - 1 }), { nil: undefined }),
        diskFullAfter: fc.option(fc.integer({ min: 1, max: n }), { nil: undefined }),
      }),
      { seed: SEED, numRuns: 30 },
    );
    for (const s of scenarios) tally.add(family, await envRun(nextBase(), s));
    expectAllGood(family);
  }, 120_000);
});

describe('killed process: SIGKILL around a dependency call, then the next start recovers', () => {
  it('a rotation killed at random calls, the vault commit included', async () => {
    const family = 'rotation killed';
    const points = fc.sample(
      fc.boolean().chain((secretFile) => fc.tuple(fc.integer({ min: 1, max: callsOf(secretFile) }), phase, fc.constant(secretFile))),
      { seed: SEED, numRuns: 11 },
    );
    // just after the vault file is written, before the journal is archived: recovery settles forward
    points.push([calls.withSecretFile - 1, 'after', true]);
    for (const [k, p, secretFile] of points) tally.add(family, await killedRotationRun(nextBase(), secretFile, k, p));
    expectAllGood(family);
    expect(tally.endings(family).at(-1)).toBe('new');
    expect(tally.endings(family)).toContain('old');
  }, 180_000);

  it('an env sync killed before and after each write', async () => {
    const family = 'env sync killed';
    for (let k = 1; k <= TARGETS.length; k++) for (const p of ['before', 'after'] as const) tally.add(family, await killedSyncRun(nextBase(), k, p));
    expectAllGood(family);
  }, 120_000);
});

describe.skipIf(!d.ok)('container: the engine goes away or ComfyUI crashes in the container', () => {
  const family = 'container';
  let rig: ContainerRig | undefined;
  beforeAll(async () => {
    rig = await createContainerRig(d.ok ? d.docker : (undefined as never));
  });
  afterAll(async () => {
    await rig?.cleanup();
  });

  for (const fault of CONTAINER_FAULTS) {
    it(fault.label, async () => {
      const run = await containerRun(rig!, fault);
      tally.add(family, run);
      expect(run.problems).toEqual([]);
      expect(run.lostFiles).toEqual([]);
    }, 90_000);
  }
});

describe('tally', () => {
  it('every run ended consistent and no file was lost', () => {
    const total = tally.report(path.resolve('test-results', 'faults.json'), SEED);
    expect(total.consistent).toBe(total.runs);
    expect(total.lostFiles).toBe(0);
  });
});
