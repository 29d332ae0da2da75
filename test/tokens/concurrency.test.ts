/**
 * Issue 16 item 2: every writer of credential locations takes the same lock, and a rotation
 * re-reads every location before it commits. Rotate vs env sync vs rotate vs recover vs
 * import, in process and across processes (the real CLI in child processes).
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envBackupDir, planPanelSync } from '../../app/env/sources.js';
import { applyEnvSync } from '../../app/env/sync.js';
import { errorMessage } from '../../app/errors.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { syncEnvTargets } from '../../app/tokens/env-sync.js';
import { credentialLockHolder } from '../../app/tokens/lock.js';
import type { Credential } from '../../app/tokens/credential.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';
import { envProblems, rotationProblems } from '../faults/checks.js';
import { createHostRig, TARGETS, type HostRig } from '../faults/rig.js';
import { useFastBcrypt } from './support.js';

useFastBcrypt();

let root: string;
const rigs: HostRig[] = [];
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-concurrency-'));
});
afterAll(async () => {
  for (const r of rigs) await r.close();
  await fs.rm(root, { recursive: true, force: true });
});

/** A server whose restart waits until the test opens the gate: the rotation is caught mid-way, lock held. */
function gatedServer(server: ComfyServerControl) {
  let open!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const atRestart = new Promise<void>((r) => (reached = r));
  return {
    server: {
      ...server,
      restart: async () => {
        reached();
        await gate;
        await server.restart();
      },
    } satisfies ComfyServerControl,
    atRestart,
    open: () => open(),
  };
}

async function rig(name: string) {
  const r = await createHostRig(path.join(root, name), true);
  rigs.push(r);
  const gated = gatedServer(r.server);
  const actions = (server = gated.server) => tokenActions(r.config, r.paths, { actor: 'cli:test', server, locations: r.locations });
  const sync = () => syncEnvTargets({ vault: r.vault, plan: () => planPanelSync(r.config, r.paths, r.paths.configFile), actor: 'cli:test', apply: { backupDir: envBackupDir(r.paths) } });
  const view = () => ({ vault: r.vault, locations: r.locations, server: r.server, url: r.config.comfyui.url, known: [r.old] });
  return { ...r, gated, actions, sync, view };
}

const refusal = (p: Promise<unknown>) => p.then(() => 'ran', (e: unknown) => errorMessage(e));

describe('in process', () => {
  it('while a rotation runs, env sync, a second rotation, recover and import are refused; afterwards everything agrees', async () => {
    const r = await rig('refused');
    const rotation = r.actions().rotate();
    await r.gated.atRestart; // targets written with the new token, vault still old
    const others = [r.sync(), r.actions(r.server).rotate(), r.actions(r.server).recover(), r.actions(r.server).importFromEnv('.env', 'COMFYUI_BEARER_TOKEN', 'compose')];
    for (const outcome of await Promise.all(others.map(refusal))) expect(outcome).toMatch(/a credential rotation is already running \(pid \d+/);
    r.gated.open();
    expect((await rotation).outcome).toBe('committed');
    expect(await rotationProblems(r.view())).toEqual([]);
    expect((await r.actions(r.server).audit()).consistent).toBe(true);
    expect(await credentialLockHolder(r.vault.dir)).toBeUndefined();
    // the sync now runs, plans from the committed vault, and changes nothing
    expect((await r.sync()).verified).toBe(true);
    expect(await rotationProblems(r.view())).toEqual([]);
  });

  it('a writer that ignores the lock and puts the revoked token back mid-rotation makes the rotation roll back, never commit', async () => {
    const r = await rig('rogue');
    const rotation = r.actions().rotate();
    await r.gated.atRestart;
    // What the old `env sync` did: plan from the vault (still old) and write, no lock.
    await applyEnvSync(await planPanelSync(r.config, r.paths, r.paths.configFile), { backupDir: envBackupDir(r.paths) });
    r.gated.open();
    const res = await rotation;
    expect(res).toMatchObject({ outcome: 'rolled-back', failedStep: 'recheck' });
    expect(res.error).toMatch(/changed by someone else during the rotation: env:/);
    expect(await rotationProblems(r.view())).toEqual([]);
    expect((await r.vault.read())?.current).toEqual(r.old);
  });

  it('a rotation started while a sync holds the lock is refused, naming the sync', async () => {
    const r = await rig('sync-first');
    let inside!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((x) => (inside = x));
    const hold = new Promise<void>((x) => (release = x));
    const sync = syncEnvTargets({
      vault: r.vault,
      actor: 'cli:test',
      plan: async () => {
        inside();
        await hold;
        return planPanelSync(r.config, r.paths, r.paths.configFile);
      },
    });
    await reached;
    expect(await refusal(r.actions(r.server).rotate())).toMatch(/an env sync is already running/);
    release();
    await sync;
    expect(await envProblems(r.config.env.root!, TARGETS, r.old, r.config.comfyui.url)).toEqual([]);
  });
});

const CLI = path.resolve('test/tokens/fixtures/cli.ts');
const ROTATE = path.resolve('test/tokens/fixtures/gated-rotate.ts');
const childEnv = { ...process.env, NODE_ENV: 'test', COMFY_PANEL_TEST_BCRYPT_COST: '4' };

/** The real CLI, from source, in its own process. */
async function cli(home: string, config: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, '--config', config, ...args], { env: { ...childEnv, COMFY_PANEL_HOME: home }, timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const f = e as { code?: number; stdout?: string; stderr?: string };
    return { code: f.code ?? -1, out: `${f.stdout ?? ''}${f.stderr ?? ''}` };
  }
}

describe('across processes', () => {
  it('a rotation in one process refuses `env sync`, `token recover` and a rotation from others; then sync runs and everything agrees', async () => {
    const r = await rig('processes');
    await r.close(); // the child process serves the deployment now
    const config = path.join(r.base, 'config.json');
    await fs.writeFile(config, JSON.stringify(r.config));
    const gate = path.join(r.base, 'gate');
    const child = spawn(process.execPath, ['--import', 'tsx', ROTATE, r.base, gate], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await expect.poll(() => out, { timeout: 60_000 }).toMatch(/at restart/);

    const sync = await cli(r.base, config, ['env', 'sync']);
    expect(sync.code, sync.out).toBe(1);
    expect(sync.out).toMatch(/a credential rotation is already running \(pid \d+/);
    const recover = await cli(r.base, config, ['token', 'recover']);
    expect(recover.code).toBe(1);
    expect(recover.out).toMatch(/already running/);
    const second = spawn(process.execPath, ['--import', 'tsx', ROTATE, r.base, `${gate}-never`], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let secondOut = '';
    second.stderr.on('data', (d: Buffer) => (secondOut += d.toString()));
    expect(await new Promise((resolve) => second.on('exit', resolve))).not.toBe(0);
    expect(secondOut).toMatch(/already running/);

    await fs.writeFile(gate, '');
    expect(await ended, out).toBe(0);
    expect(out).toMatch(/outcome committed/);
    const after = await cli(r.base, config, ['env', 'sync']);
    expect(after.code, after.out).toBe(0);
    const reopened = await createHostRigView(r);
    expect(await rotationProblems(reopened)).toEqual([]);
  }, 180_000);
});

/** The deployment as the next process sees it (the double started again on its files). */
async function createHostRigView(r: HostRig & { old: Credential }) {
  const { openHostRig } = await import('../faults/rig.js');
  const again = await openHostRig({ base: r.base, deploy: r.deploy, secretFile: r.secretFile });
  rigs.push(again);
  await again.server.restart();
  await again.server.waitHealthy();
  return { vault: again.vault, locations: again.locations, server: again.server, url: again.config.comfyui.url, known: [r.old] };
}
