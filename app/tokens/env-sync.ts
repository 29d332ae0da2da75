/**
 * `env sync` as a credential operation: under the credential lock (a rotation and a sync never
 * interleave), planned from the vault inside the lock, and journaled like a rotation so a sync
 * killed mid-way is settled (every target put back byte for byte) at the next start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { EnvSyncResult } from '../contract/ops/env.js';
import { applyEnvSync, type ApplyOptions, type EnvSyncPlan, type EnvSyncPlanItem } from '../env/sync.js';
import { errorMessage, PanelError } from '../errors.js';
import { backupStamp, writeFileAtomic } from '../fs/atomic.js';
import { fingerprint } from '../redact.js';
import { archiveJournal, createJournal, openJournalSecrets, readJournal, type SyncJournal, type SyncSecrets } from './journal.js';
import { withCredentialLock } from './lock.js';
import { pruneBackups, type RetentionPolicy } from './retention.js';
import type { Vault } from './vault.js';
import { encodeLossless } from '../fs/lossless.js';

export interface EnvSyncDeps {
  vault: Vault;
  /** Reads the vault and the targets: called inside the lock, so it plans with the credential in force. */
  plan: () => Promise<EnvSyncPlan>;
  actor: string;
  apply?: Omit<ApplyOptions, 'beforeWrite'>;
  /** Old backups pruned after a successful sync; none without. */
  retention?: RetentionPolicy;
}

const digest = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const locationName = (item: EnvSyncPlanItem) => `env:${item.target.path}`;

/** Seals the exact bytes and mode of every target about to be written, and a digest of the bytes that will be written (the text as writeFileAtomic encodes it). */
async function journalSync(vault: Vault, actor: string, pending: readonly EnvSyncPlanItem[]): Promise<SyncJournal> {
  const token = pending.flatMap((i) => Object.entries(i.updates).filter(([k]) => i.target.keys[k] === 'token').map(([, v]) => v))[0];
  const backups: SyncSecrets['backups'] = {};
  for (const item of pending) {
    const data = await fs.readFile(item.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw new PanelError(`cannot back up ${item.file} before the sync: ${e.code ?? errorMessage(e)}`, 'env-sync-backup');
    });
    backups[locationName(item)] = data ? { existed: true, data: data.toString('base64'), mode: (await fs.stat(item.path)).mode & 0o777, written: digest(encodeLossless(item.newText)) } : { existed: false, written: digest(encodeLossless(item.newText)) };
  }
  return createJournal(
    vault,
    {
      rotationId: `${backupStamp()}-${randomBytes(3).toString('hex')}`,
      kind: 'env-sync',
      actor,
      startedAt: new Date().toISOString(),
      step: 'writing',
      ...(token ? { fingerprint: fingerprint(token) } : {}),
      locations: pending.map((i) => ({ name: locationName(i), path: i.path, existed: i.exists })),
    },
    { backups },
  );
}

/** What settling an interrupted sync did, target by target. */
export interface SyncSettlement {
  restored: string[];
  /** Changed by someone else since the sync wrote it: left as it is. */
  untouched: string[];
  failed: string[];
}

/**
 * Puts back every target an interrupted sync may have written, byte for byte and with its
 * mode. A target holding neither its old bytes nor what the sync wrote was edited since, and
 * is left alone. The journal is archived once nothing failed.
 */
export async function settleSyncJournal(vault: Vault, journal: SyncJournal): Promise<SyncSettlement> {
  const { backups } = await openJournalSecrets(vault, journal);
  const out: SyncSettlement = { restored: [], untouched: [], failed: [] };
  for (const loc of journal.locations) {
    const snap = backups[loc.name];
    if (!snap) continue;
    const now = await fs.readFile(loc.path).catch(() => undefined);
    const old = snap.data === undefined ? undefined : Buffer.from(snap.data, 'base64');
    if (now === undefined ? !snap.existed : old?.equals(now)) continue; // never written, or already back
    if (now !== undefined && digest(now) !== snap.written) {
      out.untouched.push(loc.path);
      continue;
    }
    try {
      if (old === undefined) await fs.rm(loc.path, { force: true });
      else await writeFileAtomic(loc.path, old, { mode: snap.mode ?? 0o600, backup: false });
      out.restored.push(loc.path);
    } catch (e) {
      out.failed.push(`${loc.path} (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`);
    }
  }
  if (out.failed.length === 0) await archiveJournal(vault, journal);
  return out;
}

/**
 * The locked, journaled `env sync`. A sync interrupted earlier is settled first; a pending
 * rotation must be recovered first (that needs the server). A sync that fails and restores
 * every target drops its journal; one whose restore failed keeps it for the next start.
 */
export async function syncEnvTargets(deps: EnvSyncDeps): Promise<EnvSyncResult> {
  const { vault } = deps;
  return withCredentialLock(vault.dir, 'an env sync', async () => {
    const pending = await readJournal(vault);
    if (pending?.kind === 'env-sync') {
      const settled = await settleSyncJournal(vault, pending);
      if (settled.failed.length) throw new PanelError(`an interrupted env sync could not be undone: ${settled.failed.join('; ')}`, 'env-sync-rollback-failed', 'Free space or fix permissions, then run the sync again.');
    } else if (pending) {
      throw new PanelError(`an interrupted credential ${pending.kind} (${pending.rotationId}) is pending`, 'rotation-pending', 'Run `comfy-panel token recover` first, then sync.');
    }
    const plan = await deps.plan();
    let journal: SyncJournal | undefined;
    try {
      const result = await applyEnvSync(plan, { ...deps.apply, beforeWrite: async (items) => void (journal = await journalSync(vault, deps.actor, items)) });
      if (journal) await archiveJournal(vault, journal);
      if (deps.retention) await pruneBackups(vault.dir, deps.retention).catch(() => undefined); // the sync stands; the next one prunes again
      return result;
    } catch (e) {
      // Rolled back by applyEnvSync: nothing is left to settle. A failed rollback keeps the journal.
      if (journal && !(e instanceof PanelError && e.code === 'env-sync-rollback-failed')) await archiveJournal(vault, journal).catch(() => undefined);
      throw e;
    }
  });
}
