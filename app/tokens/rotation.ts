import { randomBytes } from 'node:crypto';
import type { ProbeResult } from '../comfy/client.js';
import type { RotationResult, RotationStep } from '../contract/ops/tokens.js';
import { errorMessage, PanelError } from '../errors.js';
import { backupStamp } from '../fs/atomic.js';
import { fingerprint, redact } from '../redact.js';
import { appendAuditEntry } from './audit-log.js';
import { createCredential, type Credential } from './credential.js';
import { settleSyncJournal } from './env-sync.js';
import {
  archiveJournal,
  createJournal,
  JOURNAL_DAMAGED,
  openJournalSecrets,
  readJournal,
  setAsideDamagedJournal,
  writeJournal,
  type JournalSecrets,
  type JournalStep,
  type RotationJournal,
  type SyncJournal,
} from './journal.js';
import type { CredentialLocation, LocationSnapshot } from './locations.js';
import { withCredentialLock } from './lock.js';
import { pruneBackups, type RetentionPolicy } from './retention.js';
import type { Vault } from './vault.js';

/** The server side of a rotation, injectable so any step can be made to fail. */
/** Plain functions (no `this`), so callers and fault injection can pass them around. */
export interface ComfyServerControl {
  restart: () => Promise<void>;
  /** Until ComfyUI answers again after the restart; `token` (SECRET) is the one it should now take. */
  waitHealthy: (token?: string) => Promise<void>;
  /** GET with the token (undefined = no auth): 200 accepted, 401 rejected. */
  probe: (token: string | undefined) => Promise<ProbeResult>;
  /** Logs in with the raw password through the login form: a session cookie (SECRET), or undefined. */
  openSession?: (password: string) => Promise<string | undefined>;
  /** GET with only this session cookie: 401 once the session key was replaced and ComfyUI restarted. */
  probeSession?: (cookie: string) => Promise<ProbeResult>;
}

export interface RotationDeps {
  vault: Vault;
  locations: CredentialLocation[];
  server: ComfyServerControl;
  /** Who acts, for the audit log: "cli:user@host" or "ui:user@host". */
  actor: string;
  /** Username for a first credential (config credential.username); a rotation keeps the current one. */
  username: string;
  onStep?: (step: RotationStep) => void;
  /** Old backups pruned after a committed rotation (they hold old credentials); none without. */
  retention?: RetentionPolicy;
}

/** A rotation keeps the current username (line 2 of PASSWORD) unless `username` asks for another. */
export type RotationPlan = { kind: 'rotate'; username?: string } | { kind: 'init'; force?: boolean } | { kind: 'unify'; to: Credential };

type StepRecord = RotationResult['steps'][number];

/** Runs named steps, timing them, reporting each through onStep, remembering the first failure. */
class StepRunner {
  readonly steps: StepRecord[] = [];
  failedStep?: string;
  error?: string;

  constructor(
    readonly rotationId: string,
    private readonly onStep: RotationDeps['onStep'],
    private readonly secrets: () => string[],
  ) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.onStep?.({ rotationId: this.rotationId, step: name, status: 'started' });
    const t0 = performance.now();
    try {
      const value = await fn();
      const ms = Math.round(performance.now() - t0);
      this.steps.push({ name, ok: true, ms });
      this.onStep?.({ rotationId: this.rotationId, step: name, status: 'ok', ms });
      return value;
    } catch (e) {
      const ms = Math.round(performance.now() - t0);
      const message = redact(errorMessage(e), this.secrets()).slice(0, 500);
      this.steps.push({ name, ok: false, ms, message });
      this.failedStep ??= name;
      this.error ??= message;
      this.onStep?.({ rotationId: this.rotationId, step: name, status: 'failed', ms, message });
      throw e;
    }
  }
}

const secretsOf = (...creds: (Credential | undefined)[]) => creds.flatMap((c) => (c ? [c.hash, ...(c.password ? [c.password] : [])] : []));

function newRotationId(): string {
  return `${backupStamp()}-${randomBytes(3).toString('hex')}`;
}

/** A probe that got an HTTP answer: a connection error right after a restart is retried, never taken as a verdict. */
async function probeAnswered(server: ComfyServerControl, token: string | undefined): Promise<ProbeResult> {
  let r = await server.probe(token);
  for (let i = 0; i < 3 && r.status === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    r = await server.probe(token);
  }
  return r;
}

/**
 * Every location, read again just before the commit, must hold the new token: a writer that
 * ignored the lock (an old panel, a script, an editor) would otherwise leave a revoked token
 * behind a rotation reported as committed.
 */
async function recheck(locations: CredentialLocation[], cred: Credential): Promise<void> {
  const wrong: string[] = [];
  for (const loc of locations) {
    if (loc.holdsToken === false) continue;
    const r = await loc.read();
    if (r.state !== 'present') wrong.push(`${loc.name} (${loc.path}) is ${r.state}`);
    else if (r.token !== cred.hash) wrong.push(`${loc.name} (${loc.path}) holds ${fingerprint(r.token)}`);
  }
  if (wrong.length) throw new PanelError(`changed by someone else during the rotation: ${wrong.join('; ')}`, 'recheck-failed', 'Stop whatever writes these files, then rotate again.');
}

/** The server must take `accept` and answer 401 to each of `reject` (undefined = no token). */
async function verify(server: ComfyServerControl, accept: string, reject: { token: string | undefined; what: string }[]): Promise<void> {
  const ok = await probeAnswered(server, accept);
  if (ok.status !== 200) throw new PanelError(`the server did not accept the token (status ${ok.status ?? 'none'}${ok.error ? `: ${ok.error}` : ''})`, 'verify-failed');
  for (const { token, what } of reject) {
    const r = await probeAnswered(server, token);
    if (r.status !== 401) throw new PanelError(`the server answered ${r.status ?? 'nothing'} to ${what}, expected 401`, 'verify-failed');
  }
}

async function commitVault(vault: Vault, next: Credential, old: Credential | undefined): Promise<void> {
  const state = await vault.read();
  const previous = old && old.hash !== next.hash ? old : state?.previous;
  await vault.write({ current: next, ...(previous ? { previous } : {}) });
}

async function setStep(vault: Vault, journal: RotationJournal, step: JournalStep): Promise<void> {
  journal.step = step;
  await writeJournal(vault, journal);
}

/** Puts every location back byte for byte, restarts when the server side changed, and checks the old token works again. */
async function rollBack(deps: RotationDeps, runner: StepRunner, journal: RotationJournal, secrets: JournalSecrets): Promise<boolean> {
  // How far the rotation got: a rollback interrupted earlier ('rolling-back') may have restarted already.
  const touched = journal.step;
  try {
    await setStep(deps.vault, journal, 'rolling-back');
    await runner.run('rollback-restore', async () => {
      const failed: string[] = [];
      for (const loc of deps.locations) {
        const snap = secrets.backups[loc.name];
        if (!snap) continue;
        await loc.restore(snap).catch((e: unknown) => failed.push(`${loc.name} (${loc.path}): ${errorMessage(e)}`));
      }
      if (failed.length) throw new PanelError(`could not restore ${failed.join('; ')}`, 'rollback-failed');
    });
    const oldWorks = () => (secrets.old ? verify(deps.server, secrets.old.hash, [{ token: undefined, what: 'a request without token' }]) : Promise.resolve());
    // ComfyUI reads PASSWORD (and its session key) only at start: before the restart step nothing on the
    // server side changed, so the restored files need no restart, as long as the old token still works.
    const serverUntouched = touched === 'staged' || touched === 'writing';
    if (!(serverUntouched && (await oldWorks().then(() => true, () => false)))) {
      await runner.run('rollback-restart', () => deps.server.restart());
      await runner.run('rollback-wait-healthy', () => deps.server.waitHealthy(secrets.old?.hash));
    }
    if (secrets.old) await runner.run('rollback-verify', oldWorks);
    await archiveJournal(deps.vault, journal);
    return true;
  } catch {
    return false; // the journal stays: `token recover` (or the next rotation) tries again
  }
}

function result(kind: RotationResult['kind'], runner: StepRunner, outcome: RotationResult['outcome'], inForce: Credential | undefined, previous: Credential | undefined): RotationResult {
  return {
    ok: outcome === 'committed' || outcome === 'nothing-to-do',
    rotationId: runner.rotationId,
    kind,
    ...(inForce ? { fingerprint: fingerprint(inForce.hash) } : {}),
    ...(previous ? { previousFingerprint: fingerprint(previous.hash) } : {}),
    steps: runner.steps,
    outcome,
    ...(runner.failedStep ? { failedStep: runner.failedStep } : {}),
    ...(runner.error ? { error: runner.error } : {}),
  };
}

async function logged(deps: RotationDeps, res: RotationResult, startedAt: Date): Promise<RotationResult> {
  try {
    await appendAuditEntry(deps.vault.dir, deps.actor, res, startedAt);
  } catch (e) {
    res.steps.push({ name: 'audit-log', ok: false, ms: 0, message: errorMessage(e) });
  }
  return res;
}

function checkLocations(deps: RotationDeps, journal: RotationJournal): void {
  const known = new Set(deps.locations.map((l) => l.name));
  const lost = journal.locations.filter((l) => !known.has(l.name));
  if (lost.length) {
    throw new PanelError(
      `the interrupted rotation ${journal.rotationId} wrote ${lost.map((l) => l.path).join(', ')}, which the config no longer lists`,
      'journal-locations',
      'Restore the config as it was during the rotation, then run `comfy-panel token recover`.',
    );
  }
}

/** Finish an interrupted rotation: forward when it was verified before the vault commit, else back. */
async function recoverLocked(deps: RotationDeps, journal: RotationJournal): Promise<RotationResult> {
  const startedAt = new Date();
  const secrets = await openJournalSecrets(deps.vault, journal);
  const runner = new StepRunner(journal.rotationId, deps.onStep, () => secretsOf(secrets.next, secrets.old));
  checkLocations(deps, journal);
  if (journal.step === 'verified') {
    try {
      await runner.run('commit', async () => {
        if ((await deps.vault.read())?.current.hash !== secrets.next.hash) await commitVault(deps.vault, secrets.next, secrets.old);
      });
      await archiveJournal(deps.vault, journal);
      return logged(deps, result('recover', runner, 'committed', secrets.next, secrets.old), startedAt);
    } catch {
      return logged(deps, result('recover', runner, 'rollback-failed', secrets.old, undefined), startedAt);
    }
  }
  const back = await rollBack(deps, runner, journal, secrets);
  return logged(deps, result('recover', runner, back ? 'rolled-back' : 'rollback-failed', secrets.old, undefined), startedAt);
}

/** An env sync killed mid-way: every target it may have written goes back to its old bytes. */
async function settleSync(deps: RotationDeps, journal: SyncJournal): Promise<RotationResult> {
  const startedAt = new Date();
  const runner = new StepRunner(journal.rotationId, deps.onStep, () => []);
  let settled: Awaited<ReturnType<typeof settleSyncJournal>> | undefined;
  try {
    settled = await runner.run('restore-env-targets', async () => {
      const s = await settleSyncJournal(deps.vault, journal);
      if (s.failed.length) throw new PanelError(`could not restore ${s.failed.join('; ')}`, 'rollback-failed');
      return s;
    });
  } catch {
    settled = undefined;
  }
  if (settled?.untouched.length) runner.steps.push({ name: 'left-edited-targets', ok: true, ms: 0, message: `changed since the interrupted sync, left as they are: ${settled.untouched.join(', ')}` });
  const current = (await deps.vault.read().catch(() => undefined))?.current;
  return logged(deps, result('recover', runner, settled ? 'rolled-back' : 'rollback-failed', current, undefined), startedAt);
}

async function recoverPending(deps: RotationDeps): Promise<RotationResult | undefined> {
  const pending = await readJournal(deps.vault);
  if (!pending) return undefined;
  return pending.kind === 'env-sync' ? settleSync(deps, pending) : recoverLocked(deps, pending);
}

/** A damaged journal cannot be settled: set it aside so audit and unify can repair by hand. */
async function setAsideDamaged(deps: RotationDeps, err: PanelError): Promise<RotationResult> {
  const runner = new StepRunner('damaged-journal', deps.onStep, () => []);
  const where = await setAsideDamagedJournal(deps.vault);
  runner.steps.push({ name: 'set-aside-damaged-journal', ok: false, ms: 0, message: `${err.message}; moved to ${where}` });
  runner.failedStep = 'journal';
  runner.error = `${err.message}. It was moved to ${where}. Run \`comfy-panel token audit\` to see which token each location holds, then \`comfy-panel token unify --to <fingerprint>\`.`;
  const current = (await deps.vault.read().catch(() => undefined))?.current;
  return logged(deps, result('recover', runner, 'rollback-failed', current, undefined), new Date());
}

/** `token recover`: settle an interrupted rotation or env sync, if any; a damaged journal is set aside. */
export async function recoverRotation(deps: RotationDeps): Promise<RotationResult> {
  return withCredentialLock(deps.vault.dir, 'a rotation recovery', async () => {
    const res = await recoverPending(deps).catch((e: unknown) => {
      if (e instanceof PanelError && e.code === JOURNAL_DAMAGED) return setAsideDamaged(deps, e);
      throw e;
    });
    if (res) return res;
    const current = (await deps.vault.read())?.current;
    return result('recover', new StepRunner('none', undefined, () => []), 'nothing-to-do', current, undefined);
  });
}

/** Backs up every location and writes the sealed journal: after this a crash can always be rolled back. Nothing is changed yet. */
async function stage(
  deps: RotationDeps,
  runner: StepRunner,
  next: Credential,
  old: Credential | undefined,
  kind: RotationPlan['kind'],
  startedAt: Date,
): Promise<{ journal: RotationJournal; secrets: JournalSecrets }> {
  const backups = await runner.run('backup', async () => {
    const snaps: Record<string, LocationSnapshot> = {};
    for (const loc of deps.locations) {
      snaps[loc.name] = await loc.snapshot().catch((e: unknown) => {
        throw new PanelError(`cannot back up ${loc.name} (${loc.path}): ${errorMessage(e)}`, 'backup-failed');
      });
    }
    return snaps;
  });
  const secrets: JournalSecrets = { next, ...(old ? { old } : {}), backups };
  const head = {
    rotationId: runner.rotationId,
    kind,
    actor: deps.actor,
    startedAt: startedAt.toISOString(),
    step: 'staged' as const,
    fingerprint: fingerprint(next.hash),
    ...(old ? { previousFingerprint: fingerprint(old.hash) } : {}),
    locations: deps.locations.map((l) => ({ name: l.name, path: l.path, existed: backups[l.name]?.existed ?? false })),
  };
  const journal = await runner.run('stage', () => createJournal(deps.vault, head, secrets));
  return { journal, secrets };
}

async function rotateLocked(deps: RotationDeps, plan: RotationPlan): Promise<RotationResult> {
  const startedAt = new Date();
  const { vault, locations, server } = deps;
  const old = (await vault.read())?.current;
  if (plan.kind === 'rotate' && !old) {
    throw new PanelError('the vault holds no credential yet', 'no-credential', 'Create one with `comfy-panel token init`, or adopt the running one with `comfy-panel token import --from-container`.');
  }
  if (plan.kind === 'init' && old && !plan.force) {
    throw new PanelError(`the vault already holds a credential (${fingerprint(old.hash)})`, 'credential-exists', 'Use `comfy-panel token rotate` to replace it, or `token init --force`.');
  }
  let next: Credential | undefined = plan.kind === 'unify' ? plan.to : undefined;
  let oldSession: string | undefined;
  const runner = new StepRunner(newRotationId(), deps.onStep, () => [...secretsOf(next, old), ...(oldSession ? [oldSession] : [])]);

  let staged: { journal: RotationJournal; secrets: JournalSecrets };
  try {
    const username = plan.kind === 'rotate' ? (plan.username ?? old?.username ?? deps.username) : deps.username;
    next ??= await runner.run('generate', () => createCredential(username));
    staged = await stage(deps, runner, next, old, plan.kind, startedAt);
  } catch {
    return logged(deps, result(plan.kind, runner, 'rolled-back', old, undefined), startedAt); // nothing was written yet
  }

  const { journal, secrets } = staged;
  const cred = secrets.next;
  try {
    await setStep(vault, journal, 'writing');
    await runner.run('write', async () => {
      for (const loc of locations) {
        await loc.write(cred).catch((e: unknown) => {
          throw new PanelError(`cannot write ${loc.name} (${loc.path}): ${errorMessage(e)}`, 'write-failed');
        });
      }
    });
    // A browser session taken with the old password, before the restart: afterwards it must be refused.
    // Only while the server holds the old password: without one, the first POST /login would set it.
    if (old?.password && server.openSession && (await server.probe(old.hash)).status === 200) oldSession = await server.openSession(old.password).catch(() => undefined);
    await setStep(vault, journal, 'restarting');
    await runner.run('restart', () => server.restart());
    await runner.run('wait-healthy', () => server.waitHealthy(cred.hash));
    const reject: { token: string | undefined; what: string }[] = [{ token: undefined, what: 'a request without token' }];
    if (old && old.hash !== cred.hash) reject.push({ token: old.hash, what: 'the previous token' });
    await runner.run('verify', () => verify(server, cred.hash, reject));
    if (oldSession && server.probeSession) {
      const cookie = oldSession;
      const probeSession = server.probeSession;
      await runner.run('verify-sessions', async () => {
        const r = await probeSession(cookie);
        if (r.status !== 401) throw new PanelError(`a browser session opened before the rotation got ${r.status ?? 'no answer'}, expected 401: the session key was not replaced`, 'verify-failed');
      });
    }
    await runner.run('recheck', () => recheck(locations, cred));
    await setStep(vault, journal, 'verified');
    await runner.run('commit', () =>
      commitVault(vault, cred, old).catch(async (e: unknown) => {
        // A write reported failed may still have landed: then the vault holds the verified credential and it is committed.
        if ((await vault.read().catch(() => undefined))?.current.hash !== cred.hash) throw e;
      }),
    );
  } catch {
    const back = await rollBack(deps, runner, journal, secrets);
    return logged(deps, result(plan.kind, runner, back ? 'rolled-back' : 'rollback-failed', old, undefined), startedAt);
  }
  // Committed: a failure to archive the journal only leaves a 'verified' journal, which recovery settles forward.
  await archiveJournal(vault, journal).catch(() => undefined);
  if (deps.retention) await runner.run('prune-backups', () => pruneBackups(vault.dir, deps.retention!)).catch(() => undefined); // the step records a failure; the rotation stands
  return logged(deps, result(plan.kind, runner, 'committed', cred, old), startedAt);
}

/**
 * Replace the credential everywhere, or nowhere: stage (journal), back up, write every
 * location, restart, wait healthy, verify new 200 / none 401 / old 401, re-read every
 * location (all must hold the new token), then commit the vault. Any failure restores every location, restarts and checks the old token again.
 * An interrupted earlier rotation is settled first.
 */
export async function rotateCredential(deps: RotationDeps, plan: RotationPlan): Promise<RotationResult> {
  return withCredentialLock(deps.vault.dir, `a credential ${plan.kind === 'rotate' ? 'rotation' : plan.kind}`, async () => {
    const recovered = await recoverPending(deps);
    if (recovered?.outcome === 'rollback-failed') {
      throw new PanelError(`an interrupted rotation (${recovered.rotationId}) could not be settled: ${recovered.error ?? recovered.failedStep}`, 'recovery-failed', 'Fix the cause, then run `comfy-panel token recover`.');
    }
    return rotateLocked(deps, plan);
  });
}
