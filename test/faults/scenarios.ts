/**
 * One fault run each: build a fresh host deployment, run the operation with a fault, let
 * the panel recover as its next start would, then judge (checks.ts). Shared by the test and
 * the child process that gets SIGKILLed.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { envBackupDir, planPanelSync } from '../../app/env/sources.js';
import { applyEnvSync } from '../../app/env/sync.js';
import { errorMessage } from '../../app/errors.js';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { createCredential, type Credential } from '../../app/tokens/credential.js';
import { rotateCredential, type RotationDeps } from '../../app/tokens/rotation.js';
import { makeReadOnlyDir } from '../tokens/support.js';
import { envProblems, fileBytes, lostFiles, readJournals, rotationProblems } from './checks.js';
import { Faults, faultyLocation, faultyServer, faultyVault, type FaultPlan } from './inject.js';
import { createHostRig, openHostRig, TARGETS, type HostRig } from './rig.js';
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

/** The panel's next start: settle a pending rotation with healthy dependencies, then judge. */
export async function recoverAndJudge(rig: Pick<HostRig, 'config' | 'paths' | 'server' | 'locations' | 'vault' | 'deploy'>, old: Credential, before: Map<string, Buffer>, label: string, problems: string[]): Promise<RunReport> {
  const rec = await tokenActions(rig.config, rig.paths, { actor: ACTOR, server: rig.server, locations: rig.locations })
    .recoverIfPending()
    .catch((e: unknown) => ({ outcome: `threw: ${errorMessage(e)}` }));
  if (rec && rec.outcome !== 'rolled-back' && rec.outcome !== 'committed') problems.push(`recovery ended ${rec.outcome}`);
  const known = [old, ...(await readJournals(rig.vault)).map((j) => j.secrets.next)];
  problems.push(...(await rotationProblems({ vault: rig.vault, locations: rig.locations, server: rig.server, url: rig.config.comfyui.url, known })));
  const lost = await lostFiles({ before, vault: rig.vault, backupDirs: [path.join(rig.vault.dir, 'backups'), envBackupDir(rig.paths)], hostPathOf: (p) => hostPathOf(rig, p) });
  const ended = (await rig.vault.read())?.current.hash === old.hash ? 'old' : 'new';
  return { label, problems, lostFiles: lost, ended };
}

export interface RotationFault {
  plan: FaultPlan;
  /** A location name or "vault": that target refuses writes for the whole run. */
  readOnly?: string;
  secretFile: boolean;
}

export const describeFault = (s: RotationFault) =>
  `${s.readOnly ? `read-only ${s.readOnly}` : s.plan.at.length ? `${s.plan.persist ? 'persistent ' : ''}throw at ${s.plan.at.join('+')} (${s.plan.phase})` : 'no fault'}${s.secretFile ? ', secret file' : ', PASSWORD via engine'}`;

/** One in-process rotation with a fault; returns the report and the dependency calls it made. */
export async function rotationRun(base: string, s: RotationFault): Promise<RunReport & { trace: string[] }> {
  const rig = await createHostRig(base, s.secretFile);
  const before = await fileBytes(rigFiles(rig));
  const f = new Faults(s.plan);
  const problems: string[] = [];
  let undo = s.readOnly ? await refuseWrites(rig, s.readOnly) : undefined;
  try {
    const res = await rotateCredential(faultyDeps(rig, f), { kind: 'rotate' }).catch((e: unknown) => e as Error);
    await undo?.();
    undo = undefined;
    if (res instanceof Error || res.outcome !== 'rollback-failed') {
      // settled on its own: committed, rolled back and verified, or refused before touching anything
      problems.push(...(await rotationProblems({ vault: rig.vault, locations: rig.locations, server: rig.server, url: rig.config.comfyui.url, known: [rig.old, ...(await readJournals(rig.vault)).map((j) => j.secrets.next)] })).map((p) => `before recovery: ${p}`));
    }
    if (!(res instanceof Error) && !res.ok && !res.failedStep) problems.push(`a failed rotation (${res.outcome}) names no failed step`);
    const report = await recoverAndJudge(rig, rig.old, before, describeFault(s), problems);
    return { ...report, trace: f.trace };
  } finally {
    await undo?.();
    await rig.close();
  }
}

/** An env sync whose writes go through the fault counter; write number `torn` lands only half the text and reports success. */
export function faultyWrite(f: Faults, torn: number | undefined): typeof writeFileAtomic {
  return (file, data, opts) =>
    f.call(`write ${path.basename(file)}`, () => writeFileAtomic(file, f.trace.length === torn ? String(data).slice(0, String(data).length >> 1) : data, opts));
}

/** Vault rotated to `next` while the env targets still hold the old credential: what `env sync` is for. */
export async function envRig(base: string): Promise<HostRig & { old: Credential; next: Credential }> {
  const rig = await createHostRig(base, false);
  await rig.close();
  const next = await createCredential('comfy');
  await rig.vault.write({ current: next, previous: rig.old });
  return { ...rig, next };
}

export const envFiles = (rig: HostRig) => TARGETS.map((t) => path.join(rig.config.env.root!, t.path));

/** The targets a failed sync says it could not restore, each with the backup it names. */
function reportedUnrestored(failure: Error | undefined): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const list = failure?.message.split('could not restore: ')[1];
  for (const part of list ? list.split('; ') : []) {
    const [file = '', backup] = part.split(' (original in ');
    out.set(file, backup?.replace(/\)$/, ''));
  }
  return out;
}

/**
 * Env sync keeps no journal: its recovery is the operator's, as the failure tells it (copy back
 * what could not be restored), then the next sync, which must make every target new from the vault.
 */
export async function judgeEnv(rig: HostRig & { old: Credential; next: Credential }, before: Map<string, Buffer>, label: string, problems: string[], failure?: Error): Promise<RunReport> {
  const root = rig.config.env.root!;
  const url = rig.config.comfyui.url;
  for (const [file, backup] of reportedUnrestored(failure)) if (backup) await fs.copyFile(backup, path.join(root, file));
  await applyEnvSync(await planPanelSync(rig.config, rig.paths), { backupDir: envBackupDir(rig.paths) }).catch((e: unknown) => problems.push(`the re-run failed: ${errorMessage(e)}`));
  problems.push(...(await envProblems(root, TARGETS, rig.next, url)).map((p) => `after the re-run: ${p}`));
  const lost = await lostFiles({ before, vault: rig.vault, backupDirs: [envBackupDir(rig.paths)] });
  return { label, problems, lostFiles: lost };
}

export interface EnvFault {
  plan: FaultPlan;
  torn?: number;
  readOnly?: number;
  /** After write k landed, every target folder refuses writes (the disk filled up): later writes and the rollback fail. */
  diskFullAfter?: number;
}

const envLabel = (s: EnvFault) =>
  [
    s.plan.at.length ? `throw at ${s.plan.at.join('+')} (${s.plan.phase}${s.plan.persist ? ', persistent' : ''})` : '',
    s.torn ? `torn write ${s.torn}` : '',
    s.readOnly !== undefined ? `read-only ${TARGETS[s.readOnly]?.path}` : '',
    s.diskFullAfter ? `disk full after write ${s.diskFullAfter}` : '',
  ]
    .filter(Boolean)
    .join(', ') || 'no fault';

/** A failed sync must have restored every target, or named those it could not. */
async function unrestoredProblems(failure: Error, root: string, old: Credential, url: string): Promise<string[]> {
  const reported = reportedUnrestored(failure);
  const problems: string[] = [];
  for (const t of TARGETS.filter((t) => !reported.has(t.path))) problems.push(...(await envProblems(root, [t], old, url)).map((p) => `after the failure, not restored and not reported: ${p}`));
  return problems;
}

export async function envRun(base: string, s: EnvFault): Promise<RunReport> {
  const rig = await envRig(base);
  const files = envFiles(rig);
  const before = await fileBytes(files);
  const undos: (() => Promise<void>)[] = [];
  const freeze = async () => {
    for (const dir of new Set(files.map((f) => path.dirname(f)))) undos.push(await makeReadOnlyDir(dir));
  };
  const f = new Faults(s.plan, async (n, _label, phase) => {
    if (n === s.diskFullAfter && phase === 'after') await freeze();
  });
  const problems: string[] = [];
  const thaw = async () => {
    for (const undo of undos.splice(0)) await undo();
  };
  try {
    if (s.readOnly !== undefined) undos.push(await makeReadOnlyDir(path.dirname(files[s.readOnly]!)));
    const plan = await planPanelSync(rig.config, rig.paths);
    const res = await applyEnvSync(plan, { backupDir: envBackupDir(rig.paths), write: faultyWrite(f, s.torn) }).catch((e: unknown) => e as Error);
    await thaw();
    const url = rig.config.comfyui.url;
    const root = rig.config.env.root!;
    if (res instanceof Error) problems.push(...(await unrestoredProblems(res, root, rig.old, url)));
    else problems.push(...(await envProblems(root, TARGETS, rig.next, url)).map((p) => `after success: ${p}`));
    return await judgeEnv(rig, before, envLabel(s), problems, res instanceof Error ? res : undefined);
  } finally {
    await thaw();
  }
}

const CHILD = path.join(import.meta.dirname, 'fixtures', 'child.ts');

/** Runs the operation in a child process that SIGKILLs itself at dependency call k (fixtures/child.ts). */
async function runChild(args: string[]): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  const env = { ...process.env, COMFY_PANEL_TEST_BCRYPT_COST: '4' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, ...args], { env });
    return { signal: null, out: stdout + stderr };
  } catch (e) {
    const failed = e as { signal?: NodeJS.Signals; stdout?: string; stderr?: string };
    return { signal: failed.signal ?? null, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const killedProblems = (r: { signal: NodeJS.Signals | null; out: string }) => (r.signal === 'SIGKILL' ? [] : [`the child was not killed: ${r.out.slice(0, 300)}`]);

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

/** An env sync killed before or after write k; its recovery is the next sync. */
export async function killedSyncRun(base: string, k: number, phase: FaultPlan['phase']): Promise<RunReport> {
  const rig = await envRig(base);
  const before = await fileBytes(envFiles(rig));
  const problems = killedProblems(await runChild([base, '0', 'sync', String(k), phase]));
  return judgeEnv(rig, before, `sync killed at write ${k} (${phase})`, problems);
}
