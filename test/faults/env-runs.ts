/**
 * One env sync fault run each: targets holding the old credential, the vault the new one;
 * sync with a failing, torn or refused write, a disk filling up, or a SIGKILL; then the
 * operator's recovery the failure describes, and judge (checks.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { envBackupDir, planPanelSync } from '../../app/env/sources.js';
import { errorMessage } from '../../app/errors.js';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { createCredential, type Credential } from '../../app/tokens/credential.js';
import { syncEnvTargets } from '../../app/tokens/env-sync.js';
import { readJournal } from '../../app/tokens/journal.js';
import { makeReadOnlyDir } from '../tokens/support.js';
import { envProblems, fileBytes, lostFiles } from './checks.js';
import { killedProblems, runChild } from './child-run.js';
import { Faults, type FaultPlan } from './inject.js';
import { createHostRig, TARGETS, type HostRig } from './rig.js';
import type { RunReport } from './tally.js';

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

/** `env sync` as the CLI and the UI run it: locked, journaled, planned from the vault. */
export function panelSync(rig: HostRig, write?: typeof writeFileAtomic) {
  return syncEnvTargets({ vault: rig.vault, plan: () => planPanelSync(rig.config, rig.paths, rig.paths.configFile), actor: 'cli:faults', apply: { backupDir: envBackupDir(rig.paths), ...(write ? { write } : {}) } });
}

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

/** Where the message names no backup (the failing write never returned its path), the operator takes the newest one of that file. */
async function newestBackup(root: string, file: string): Promise<string | undefined> {
  const dir = path.join(root, path.dirname(file));
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(`${path.basename(file)}.`) && n.endsWith('.bak'));
  const newest = names.sort().at(-1);
  return newest && path.join(dir, newest);
}

/**
 * After a failed sync, the operator's recovery as the failure tells it (copy back what could not
 * be restored; the journal of a failed restore does it too), then the next sync, which must make
 * every target new from the vault and leave nothing pending.
 */
export async function judgeEnv(rig: HostRig & { old: Credential; next: Credential }, before: Map<string, Buffer>, label: string, problems: string[], failure?: Error): Promise<RunReport> {
  const root = rig.config.env.root!;
  const url = rig.config.comfyui.url;
  for (const [file, backup] of reportedUnrestored(failure)) {
    const original = backup ?? (await newestBackup(envBackupDir(rig.paths), file));
    if (original) await fs.copyFile(original, path.join(root, file));
  }
  await panelSync(rig).catch((e: unknown) => problems.push(`the re-run failed: ${errorMessage(e)}`));
  problems.push(...(await envProblems(root, TARGETS, rig.next, url)).map((p) => `after the re-run: ${p}`));
  if (await readJournal(rig.vault)) problems.push('a journal is still pending after the re-run');
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
    const res = await panelSync(rig, faultyWrite(f, s.torn)).catch((e: unknown) => e as Error);
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

/**
 * An env sync killed before or after write k. The panel's next start settles its journal: every
 * target back byte for byte, none left mixed (issue 16 item 18); then the next sync makes them new.
 */
export async function killedSyncRun(base: string, k: number, phase: FaultPlan['phase']): Promise<RunReport> {
  const rig = await envRig(base);
  const before = await fileBytes(envFiles(rig));
  const problems = killedProblems(await runChild([base, '0', 'sync', String(k), phase]));
  const settled = await tokenActions(rig.config, rig.paths, { actor: 'cli:faults', server: rig.server, locations: rig.locations })
    .recoverIfPending()
    .catch((e: unknown) => ({ outcome: `threw: ${errorMessage(e)}` }));
  if (settled && settled.outcome !== 'rolled-back') problems.push(`the next start settled the sync as ${settled.outcome}`);
  for (const [file, bytes] of before) if (!(await fs.readFile(file)).equals(bytes)) problems.push(`${path.relative(base, file)} was not put back byte for byte at the next start`);
  return judgeEnv(rig, before, `sync killed at write ${k} (${phase})`, problems);
}
