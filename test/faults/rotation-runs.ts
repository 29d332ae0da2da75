/**
 * One rotation fault run each: build a fresh host deployment, rotate with a fault (in process,
 * or in a child process that gets SIGKILLed), let the panel recover as its next start would,
 * then judge (checks.ts).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { envBackupDir, planPanelSync } from '../../app/env/sources.js';
import { applyEnvSync } from '../../app/env/sync.js';
import { errorMessage, PanelError } from '../../app/errors.js';
import { tokenActions } from '../../app/tokens/actions.js';
import type { Credential } from '../../app/tokens/credential.js';
import { rotateCredential, type RotationDeps } from '../../app/tokens/rotation.js';
import { makeReadOnlyDir } from '../tokens/support.js';
import { fileBytes, lostFiles, readJournals, rotationProblems, type RotationView } from './checks.js';
import { killedProblems, runChild } from './child-run.js';
import { panelSync } from './env-runs.js';
import { Faults, faultyLocation, faultyServer, faultyVault, type FaultPlan } from './inject.js';
import { createHostRig, openHostRig, type HostRig } from './rig.js';
import type { RunReport } from './tally.js';

const ACTOR = 'cli:faults';

/** Where a location lives on the host (the container's PASSWORD is deploy/login/PASSWORD here). */
export function hostPathOf(rig: Pick<HostRig, 'deploy'>, locationPath: string): string {
  return locationPath.startsWith('container:') ? path.join(rig.deploy, 'login', 'PASSWORD') : locationPath;
}

/** Every file a rotation or a sync may touch. */
export function rigFiles(rig: HostRig): string[] {
  return [rig.vault.file, ...rig.locations.map((l) => hostPathOf(rig, l.path))];
}

/**
 * Makes a target refuse writes, as a full disk would. Host files are replaced by rename, so
 * their folder is frozen; the container's PASSWORD is written in place, so the file is.
 */
async function refuseWrites(rig: HostRig, target: string): Promise<() => Promise<void>> {
  if (target === 'vault') return makeReadOnlyDir(rig.vault.dir);
  const loc = rig.locations.find((l) => l.name === target);
  if (!loc) throw new Error(`no location ${target}`);
  if (!loc.path.startsWith('container:')) return makeReadOnlyDir(path.dirname(loc.path));
  const run = promisify(execFile);
  const file = hostPathOf(rig, loc.path);
  await run('chattr', ['+i', file]);
  return async () => void (await run('chattr', ['-i', file]));
}

export function faultyDeps(rig: HostRig, f: Faults): RotationDeps {
  return {
    vault: faultyVault(rig.vault.dir, f),
    locations: rig.locations.map((l) => faultyLocation(l, f)),
    server: faultyServer(rig.server, f),
    actor: ACTOR,
    username: 'comfy',
  };
}

type Judged = Pick<HostRig, 'config' | 'paths' | 'server' | 'locations' | 'vault' | 'deploy'> & {
  /** What a rotation writes when it differs from the audited locations (a container's ComfyUI-Login session key). */
  rotationLocations?: HostRig['locations'];
};

/** What the rotation checks read: the server must refuse `old` and every token a journal generated, unless the vault holds it. */
async function rotationView(rig: Judged, old: Credential): Promise<RotationView> {
  const known = [old, ...(await readJournals(rig.vault)).flatMap((j) => ('next' in j.secrets ? [j.secrets.next] : []))];
  return { vault: rig.vault, locations: rig.locations, server: rig.server, url: rig.config.comfyui.url, known };
}

/** The panel's next start: settle a pending rotation with healthy dependencies, then judge. */
export async function recoverAndJudge(rig: Judged, old: Credential, before: Map<string, Buffer>, label: string, problems: string[]): Promise<RunReport> {
  const rec = await tokenActions(rig.config, rig.paths, { actor: ACTOR, server: rig.server, locations: rig.rotationLocations ?? rig.locations })
    .recoverIfPending()
    .catch((e: unknown) => ({ outcome: `threw: ${errorMessage(e)}` }));
  if (rec && rec.outcome !== 'rolled-back' && rec.outcome !== 'committed') problems.push(`recovery ended ${rec.outcome}`);
  problems.push(...(await rotationProblems(await rotationView(rig, old))));
  const lost = await lostFiles({ before, vault: rig.vault, backupDirs: [path.join(rig.vault.dir, 'backups'), envBackupDir(rig.paths)], hostPathOf: (p) => hostPathOf(rig, p) });
  const ended = (await rig.vault.read())?.current.hash === old.hash ? 'old' : 'new';
  return { label, problems, lostFiles: lost, ended };
}

export interface RotationFault {
  plan: FaultPlan;
  /** A location name or "vault": that target refuses writes for the whole run. */
  readOnly?: string;
  secretFile: boolean;
  /**
   * After dependency call k, an `env sync` runs meanwhile: `locked` as the panel ships it (it
   * must be refused), or `unlocked` as before the credential lock (writing the vault's token,
   * still the old one): the rotation's re-read before its commit must catch it.
   */
  concurrentSync?: { at: number; mode: 'locked' | 'unlocked' };
}

export const describeFault = (s: RotationFault) =>
  `${s.readOnly ? `read-only ${s.readOnly}` : s.plan.at.length ? `${s.plan.persist ? 'persistent ' : ''}throw at ${s.plan.at.join('+')} (${s.plan.phase})` : 'no fault'}${s.secretFile ? ', secret file' : ', PASSWORD via engine'}${s.concurrentSync ? `, ${s.concurrentSync.mode} env sync after call ${s.concurrentSync.at}` : ''}`;

/** The env sync that runs in the middle of a rotation; a refusal is what the locked one must get. */
async function concurrentSync(rig: HostRig, mode: 'locked' | 'unlocked', problems: string[]): Promise<void> {
  if (mode === 'unlocked') return void (await applyEnvSync(await planPanelSync(rig.config, rig.paths, rig.paths.configFile), { backupDir: envBackupDir(rig.paths) }));
  const refused = await panelSync(rig).then(() => undefined, (e: unknown) => (e instanceof PanelError ? e.code : errorMessage(e)));
  if (refused !== 'credentials-locked') problems.push(`an env sync during the rotation was not refused by the lock (${refused ?? 'it ran'})`);
}

/** One in-process rotation with a fault; returns the report and the dependency calls it made. */
export async function rotationRun(base: string, s: RotationFault): Promise<RunReport & { trace: string[] }> {
  const rig = await createHostRig(base, s.secretFile);
  const before = await fileBytes(rigFiles(rig));
  const problems: string[] = [];
  const f = new Faults(s.plan, async (n, _label, phase) => {
    if (s.concurrentSync?.at === n && phase === 'after') await concurrentSync(rig, s.concurrentSync.mode, problems);
  });
  let undo = s.readOnly ? await refuseWrites(rig, s.readOnly) : undefined;
  try {
    const res = await rotateCredential(faultyDeps(rig, f), { kind: 'rotate' }).catch((e: unknown) => e as Error);
    await undo?.();
    undo = undefined;
    if (res instanceof Error || res.outcome !== 'rollback-failed') {
      // settled on its own: committed, rolled back and verified, or refused before touching anything
      problems.push(...(await rotationProblems(await rotationView(rig, rig.old))).map((p) => `before recovery: ${p}`));
    }
    if (!(res instanceof Error) && !res.ok && !res.failedStep) problems.push(`a failed rotation (${res.outcome}) names no failed step`);
    const report = await recoverAndJudge(rig, rig.old, before, describeFault(s), problems);
    return { ...report, trace: f.trace };
  } finally {
    await undo?.();
    await rig.close();
  }
}

/** A rotation killed at call k; the panel's next start (a new server on the same files) recovers. */
export async function killedRotationRun(base: string, secretFile: boolean, k: number, phase: FaultPlan['phase']): Promise<RunReport> {
  const rig = await createHostRig(base, secretFile);
  const before = await fileBytes(rigFiles(rig));
  await rig.close();
  const problems = killedProblems(await runChild([base, secretFile ? '1' : '0', 'rotate', String(k), phase]));
  const next = await openHostRig(rig);
  try {
    return await recoverAndJudge(next, rig.old, before, `killed at call ${k} (${phase})${secretFile ? ', secret file' : ''}`, problems);
  } finally {
    await next.close();
  }
}
