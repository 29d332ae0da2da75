import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage, PanelError } from '../errors.js';
import { backupStamp, writeFileAtomic } from '../fs/atomic.js';
import type { Credential } from './credential.js';
import type { LocationSnapshot } from './locations.js';
import { CredentialSchema, SealedSchema, type Vault } from './vault.js';

export const JOURNAL_FILE = 'rotation.journal.json';

/** How far a rotation got; `verified` means the new token passed every check before the vault commit. */
export type JournalStep = 'staged' | 'writing' | 'restarting' | 'verified' | 'rolling-back';

const LocationsSchema = z.array(z.object({ name: z.string(), path: z.string(), existed: z.boolean() }));

/** On disk: ids, step and fingerprints in clear; the credentials and the backups (which hold tokens) sealed. */
const RotationJournalSchema = z.object({
  rotationId: z.string(),
  kind: z.enum(['rotate', 'init', 'unify']),
  actor: z.string(),
  startedAt: z.string(),
  step: z.enum(['staged', 'writing', 'restarting', 'verified', 'rolling-back']),
  fingerprint: z.string(),
  previousFingerprint: z.string().optional(),
  locations: LocationsSchema,
  sealed: SealedSchema,
});
export type RotationJournal = z.infer<typeof RotationJournalSchema>;

/**
 * An `env sync` in progress: which targets it is about to write, their exact bytes and modes
 * sealed. A sync killed mid-way leaves it; the next start (or the next credential operation)
 * puts every target back as it was, so targets are never left mixed.
 */
const SyncJournalSchema = z.object({
  rotationId: z.string(),
  kind: z.literal('env-sync'),
  actor: z.string(),
  startedAt: z.string(),
  step: z.literal('writing'),
  /** Fingerprint of the token being written (the vault's current one). */
  fingerprint: z.string().optional(),
  locations: LocationsSchema,
  sealed: SealedSchema,
});
export type SyncJournal = z.infer<typeof SyncJournalSchema>;

const JournalSchema = z.discriminatedUnion('kind', [RotationJournalSchema, SyncJournalSchema]);
export type Journal = z.infer<typeof JournalSchema>;

const SecretsSchema = z.object({
  next: CredentialSchema,
  old: CredentialSchema.optional(),
  backups: z.record(z.string(), z.object({ existed: z.boolean(), content: z.string().optional(), mode: z.number().optional() })),
});
export interface JournalSecrets {
  next: Credential;
  old?: Credential;
  backups: Record<string, LocationSnapshot>;
}

/** By location name: a target's bytes before the sync (base64: byte for byte, whatever the encoding) and the sha256 of what the sync writes. */
const SyncSecretsSchema = z.object({
  backups: z.record(z.string(), z.object({ existed: z.boolean(), data: z.string().optional(), mode: z.number().optional(), written: z.string() })),
});
export type SyncSecrets = z.infer<typeof SyncSecretsSchema>;

export function journalPath(vault: Vault): string {
  return path.join(vault.dir, JOURNAL_FILE);
}

/**
 * The pending journal, if any. A damaged one (truncated, edited) is a clear error naming the
 * file; `token recover` sets it aside so the operator can audit and unify (see recoverRotation).
 */
export async function readJournal(vault: Vault): Promise<Journal | undefined> {
  const file = journalPath(vault);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PanelError(`${file}: cannot read the rotation journal (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`, 'journal-unreadable', 'Check the permissions of the vault folder.');
  }
  let parsed: ReturnType<typeof JournalSchema.safeParse> | undefined;
  try {
    parsed = JournalSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new PanelError(`${file}: the journal of an interrupted operation is damaged (${parsed ? 'unexpected content' : 'not valid JSON: truncated?'}), so it cannot be settled automatically`, JOURNAL_DAMAGED, DAMAGED_FIX);
  return parsed.data;
}

export const JOURNAL_DAMAGED = 'journal-damaged';
const DAMAGED_FIX =
  'Run `comfy-panel token recover`: it sets the damaged journal aside (kept in the vault backups folder). Then `comfy-panel token audit` shows which token each location holds, and `comfy-panel token unify --to <fingerprint>` puts one token everywhere.';

/** Moves a damaged journal aside (kept for inspection); returns where it went. */
export async function setAsideDamagedJournal(vault: Vault): Promise<string> {
  const dir = path.join(vault.dir, 'backups');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const dest = path.join(dir, `damaged-${backupStamp()}.journal.json`);
  await fs.rename(journalPath(vault), dest);
  return dest;
}

export function openJournalSecrets(vault: Vault, journal: RotationJournal): Promise<JournalSecrets>;
export function openJournalSecrets(vault: Vault, journal: SyncJournal): Promise<SyncSecrets>;
export function openJournalSecrets(vault: Vault, journal: Journal): Promise<JournalSecrets | SyncSecrets>;
export async function openJournalSecrets(vault: Vault, journal: Journal): Promise<JournalSecrets | SyncSecrets> {
  const purpose = `journal:${journal.rotationId}`;
  if (journal.kind === 'env-sync') return vault.open(journal.sealed, purpose, SyncSecretsSchema, journalPath(vault));
  return vault.open(journal.sealed, purpose, SecretsSchema, journalPath(vault));
}

export async function createJournal(vault: Vault, head: Omit<RotationJournal, 'sealed'>, secrets: JournalSecrets): Promise<RotationJournal>;
export async function createJournal(vault: Vault, head: Omit<SyncJournal, 'sealed'>, secrets: SyncSecrets): Promise<SyncJournal>;
export async function createJournal(vault: Vault, head: Omit<Journal, 'sealed'>, secrets: JournalSecrets | SyncSecrets): Promise<Journal> {
  const journal = { ...head, sealed: await vault.seal(secrets, `journal:${head.rotationId}`) } as Journal;
  await writeJournal(vault, journal);
  return journal;
}

export async function writeJournal(vault: Vault, journal: Journal): Promise<void> {
  await writeFileAtomic(journalPath(vault), `${JSON.stringify(journal, null, 2)}\n`, { mode: 0o600, backup: false });
}

/** A finished operation's journal moves to backups/: its sealed backups stay restorable by hand. */
export async function archiveJournal(vault: Vault, journal: Journal): Promise<void> {
  const dir = path.join(vault.dir, 'backups');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.rename(journalPath(vault), path.join(dir, `${journal.kind === 'env-sync' ? 'env-sync' : 'rotation'}-${journal.rotationId}.journal.json`));
}
