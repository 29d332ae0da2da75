import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotationStep } from '../../app/contract/ops/tokens.js';
import { createCredential, passwordFileContent, type Credential } from '../../app/tokens/credential.js';
import { AUDIT_LOG } from '../../app/tokens/audit-log.js';
import { JOURNAL_FILE } from '../../app/tokens/journal.js';
import { secretFileLocation } from '../../app/tokens/locations.js';
import { credentialLockHolder, LOCK_PREFIX } from '../../app/tokens/lock.js';
import { recoverRotation, rotateCredential, type RotationDeps } from '../../app/tokens/rotation.js';
import { Vault, type VaultState } from '../../app/tokens/vault.js';
import { credentialFiles, hostDoubleServer, makeDeployment, makeReadOnlyDir, treeContents, useFastBcrypt } from './support.js';

useFastBcrypt();

let root: string;
const servers: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-rotation-'));
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** A deployment, the double serving it, and rotation deps recording the steps. */
async function setup(name: string) {
  const base = path.join(root, name);
  const { deploy, vault, old, secret, mirror, before } = await makeDeployment(base);
  const server = await hostDoubleServer(deploy);
  servers.push(server);
  const steps: RotationStep[] = [];
  const deps: RotationDeps = {
    vault,
    locations: [secretFileLocation(secret), secretFileLocation(mirror, 'mirror')],
    server,
    actor: 'cli:test@host',
    username: 'comfy',
    onStep: (s) => steps.push(s),
  };
  return { base, deploy, vault, old, server, deps, steps, before, cleanups: [] as Promise<() => Promise<void>>[] };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function expectFullyOld(s: Setup) {
  expect(await credentialFiles(s.deploy)).toEqual(s.before);
  expect((await s.vault.read())?.current).toEqual(s.old);
  expect((await s.server.probe(s.old.hash)).status).toBe(200);
  await expect(fs.access(path.join(s.vault.dir, JOURNAL_FILE))).rejects.toThrow();
  expect(await credentialLockHolder(s.vault.dir)).toBeUndefined();
}

async function auditLines(vault: Vault) {
  return (await fs.readFile(path.join(vault.dir, AUDIT_LOG), 'utf8')).trim().split('\n');
}

function expectNoSecrets(text: string, ...creds: (Credential | undefined)[]) {
  for (const c of creds) {
    if (!c) continue;
    expect(text).not.toContain(c.hash);
    if (c.password) expect(text).not.toContain(c.password);
  }
}

describe('rotation', () => {
  let s: Setup;

  it('replaces the credential everywhere, verifies, then commits the vault', async () => {
    s = await setup('ok');
    const res = await rotateCredential(s.deps, { kind: 'rotate' });
    expect(res).toMatchObject({ ok: true, outcome: 'committed', kind: 'rotate' });
    expect(res.steps.map((x) => x.name)).toEqual(['generate', 'backup', 'stage', 'write', 'restart', 'wait-healthy', 'verify', 'recheck', 'commit']);
    const state = (await s.vault.read()) as VaultState;
    expect(state.previous).toEqual(s.old);
    expect(state.current.hash).not.toBe(s.old.hash);
    expect(state.current.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(res.fingerprint).toMatch(/^fp:/);
    expect(Object.values(await credentialFiles(s.deploy))).toEqual([passwordFileContent(state.current), passwordFileContent(state.current)]);
    expect((await s.server.probe(state.current.hash)).status).toBe(200);
    expect((await s.server.probe(s.old.hash)).status).toBe(401);
    expect(s.steps.filter((x) => x.status === 'ok')).toHaveLength(9);
    // the journal moved to backups/ with its backups sealed; nothing readable holds a secret
    const archived = await fs.readdir(path.join(s.vault.dir, 'backups'));
    expect(archived.some((f) => f.startsWith(`rotation-${res.rotationId}`))).toBe(true);
    const everything = Object.values(await treeContents(s.vault.dir)).join('\n') + JSON.stringify(res) + JSON.stringify(s.steps);
    expectNoSecrets(everything, s.old, state.current);
    const [entry] = (await auditLines(s.vault)).map((l) => JSON.parse(l));
    expect(entry).toMatchObject({ actor: 'cli:test@host', rotationId: res.rotationId, outcome: 'committed', fingerprint: res.fingerprint, previousFingerprint: res.previousFingerprint });
    expect(entry.steps).toHaveLength(9);
  });

  const failures: { step: string; arrange: (s: Setup) => void }[] = [
    {
      step: 'backup',
      arrange: (s) =>
        s.deps.locations.push({ ...secretFileLocation(path.join(s.deploy, 'x')), name: 'unreadable', snapshot: () => Promise.reject(new Error('EACCES')) }),
    },
    {
      step: 'stage',
      arrange: (s) => {
        s.vault.seal = () => Promise.reject(new Error('disk full'));
      },
    },
    {
      // a real failing write: the target's folder is a regular file (ENOTDIR), after two good writes
      step: 'write',
      arrange: (s) => s.deps.locations.push(secretFileLocation(path.join(s.deploy, 'mirror', 'PASSWORD', 'nested'), 'blocked')),
    },
    {
      // a real read-only target folder (the first location is already written when this one fails)
      step: 'write',
      arrange: (s) => s.cleanups.push(makeReadOnlyDir(path.join(s.deploy, 'mirror'))),
    },
    { step: 'restart', arrange: (s) => (s.server.faults.restart = 1) },
    { step: 'wait-healthy', arrange: (s) => (s.server.faults['wait-healthy'] = 1) },
    { step: 'verify', arrange: (s) => (s.server.faults.verify = 1) },
    {
      step: 'commit',
      arrange: (s) => {
        s.vault.write = () => Promise.reject(new Error('vault disk full'));
      },
    },
  ];

  for (const [i, f] of failures.entries()) {
    it(`a failure at ${f.step} ends fully old, every file restored, and names the step (${i})`, async () => {
      s = await setup(`fail-${i}-${f.step}`);
      f.arrange(s);
      const undo = await Promise.all(s.cleanups);
      const res = await rotateCredential(s.deps, { kind: 'rotate' }).finally(() => Promise.all(undo.map((u) => u())));
      expect(res).toMatchObject({ ok: false, outcome: 'rolled-back', failedStep: f.step, fingerprint: expect.stringMatching(/^fp:/) });
      expect(res.error).toBeTruthy();
      await expectFullyOld(s);
      const entry = JSON.parse((await auditLines(s.vault))[0]!);
      expect(entry).toMatchObject({ outcome: 'rolled-back', failedStep: f.step });
      expectNoSecrets(JSON.stringify(res) + JSON.stringify(s.steps) + entry, s.old);
      // ComfyUI reads PASSWORD only at start: a rotation that failed before its restart step changed
      // nothing on the server side, so the rollback restores the files without restarting it.
      const restarted = res.steps.some((x) => x.name === 'rollback-restart');
      expect(restarted).toBe(!['backup', 'stage', 'write'].includes(f.step));
    });
  }

  it('a rollback that cannot restart keeps the journal; `recover` later settles it back', async () => {
    s = await setup('rollback-fails');
    s.server.faults.verify = 1;
    const restart = s.server.restart.bind(s.server);
    let failRestartAt = new Set([2]); // the rotation's own restart works, the rollback's fails
    let calls = 0;
    s.server.restart = async () => {
      if (failRestartAt.has(++calls)) throw new Error('engine gone');
      return restart();
    };
    const res = await rotateCredential(s.deps, { kind: 'rotate' });
    expect(res).toMatchObject({ ok: false, outcome: 'rollback-failed', failedStep: 'verify' });
    expect(res.steps.find((x) => !x.ok && x.name === 'rollback-restart')).toBeTruthy();
    await fs.access(path.join(s.vault.dir, JOURNAL_FILE));
    // a new rotation first settles the old one; it refuses to start when that fails again
    failRestartAt = new Set([3]);
    await expect(rotateCredential(s.deps, { kind: 'rotate' })).rejects.toThrow(/could not be settled/);
    const rec = await recoverRotation(s.deps);
    expect(rec).toMatchObject({ outcome: 'rolled-back', kind: 'recover' });
    await expectFullyOld(s);
    expect((await recoverRotation(s.deps)).outcome).toBe('nothing-to-do');
  });

  it('two rotations never interleave; a lock left by a dead process is taken over', async () => {
    s = await setup('lock');
    const [a, b] = await Promise.allSettled([rotateCredential(s.deps, { kind: 'rotate' }), rotateCredential(s.deps, { kind: 'rotate' })]);
    const outcomes = [a, b].map((r) => (r.status === 'fulfilled' ? r.value.outcome : (r.reason as Error).message));
    expect(outcomes).toContain('committed');
    expect(outcomes.find((o) => o !== 'committed')).toMatch(/already running \(pid \d+/);
    // a lock as a dead process (then a live one) would leave it, as the newest generation
    const plant = async (pid: number) => {
      const gens = (await fs.readdir(s.vault.dir)).flatMap((f) => (f.startsWith(`${LOCK_PREFIX}.`) && /^\d+$/.test(f.slice(LOCK_PREFIX.length + 1)) ? [Number(f.slice(LOCK_PREFIX.length + 1))] : []));
      const file = path.join(s.vault.dir, `${LOCK_PREFIX}.${Math.max(0, ...gens) + 1}`);
      await fs.writeFile(file, JSON.stringify({ pid, host: os.hostname(), time: 'then', operation: 'a credential rotation', nonce: 'n' }));
      return file;
    };
    await plant(2 ** 22 + 12345);
    expect((await rotateCredential(s.deps, { kind: 'rotate' })).outcome).toBe('committed');
    const live = await plant(process.pid);
    await expect(rotateCredential(s.deps, { kind: 'rotate' })).rejects.toThrow(/already running/);
    await fs.writeFile(`${live}.released`, '');
  });

  it('init refuses to replace a credential without force; rotate needs one', async () => {
    s = await setup('init');
    await expect(rotateCredential(s.deps, { kind: 'init' })).rejects.toThrow(/already holds a credential \(fp:/);
    const empty = { ...s.deps, vault: new Vault(path.join(s.base, 'empty-vault')) };
    await expect(rotateCredential(empty, { kind: 'rotate' })).rejects.toThrow(/no credential yet/);
    const res = await rotateCredential(empty, { kind: 'init' });
    expect(res).toMatchObject({ ok: true, outcome: 'committed' });
    expect(res.previousFingerprint).toBeUndefined();
    expect((await empty.vault.read())?.previous).toBeUndefined();
  });

  it('a rotation keeps the current username (an imported "operator"), not the config\'s; another only when asked (issue 17 item 9)', async () => {
    s = await setup('username');
    const imported = { ...s.old, username: 'operator' };
    await s.vault.write({ current: imported });
    for (const f of Object.keys(await credentialFiles(s.deploy))) await fs.writeFile(path.join(s.deploy, f), passwordFileContent(imported));
    expect((await rotateCredential(s.deps, { kind: 'rotate' })).outcome).toBe('committed');
    const kept = (await s.vault.read())!.current;
    expect(kept.username).toBe('operator');
    expect(kept.hash).not.toBe(imported.hash);
    expect(Object.values(await credentialFiles(s.deploy)).map((c) => c.split('\n')[1])).toEqual(['operator', 'operator']);
    expect((await rotateCredential(s.deps, { kind: 'rotate', username: 'alice' })).outcome).toBe('committed');
    expect((await s.vault.read())!.current.username).toBe('alice');
    expect(Object.values(await credentialFiles(s.deploy)).map((c) => c.split('\n')[1])).toEqual(['alice', 'alice']);
  });

  it('unify writes a given token everywhere and keeps the old one as previous', async () => {
    s = await setup('unify');
    const other = await createCredential('comfy');
    const res = await rotateCredential(s.deps, { kind: 'unify', to: other });
    expect(res).toMatchObject({ ok: true, outcome: 'committed', kind: 'unify' });
    expect(await s.vault.read()).toEqual({ current: other, previous: s.old });
    expect(res.steps.map((x) => x.name)).not.toContain('generate');
  });
});
