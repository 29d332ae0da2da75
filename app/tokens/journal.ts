import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PanelError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Credential } from './credential.js';
import type { LocationSnapshot } from './locations.js';
import { CredentialSchema, SealedSchema, type Vault } from './vault.js';

export const JOURNAL_FILE = 'rotation.journal.json';

/** How far a rotation got; `verified` means the new token passed every check before the vault commit. */
export type JournalStep = 'staged' | 'writing' | 'restarting' | 'verified' | 'rolling-back';

/** On disk: ids, step and fingerprints in clear; the credentials and the backups (which hold tokens) sealed. */
const JournalSchema = z.object({
  rotationId: z.string(),
  kind: z.enum(['rotate', 'init', 'unify']),
  actor: z.string(),
  startedAt: z.string(),
  step: z.enum(['staged', 'writing', 'restarting', 'verified', 'rolling-back']),
  fingerprint: z.string(),
  previousFingerprint: z.string().optional(),
  locations: z.array(z.object({ name: z.string(), path: z.string(), existed: z.boolean() })),
  sealed: SealedSchema,
});
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

export function journalPath(vault: Vault): string {
  return path.join(vault.dir, JOURNAL_FILE);
}

export async function readJournal(vault: Vault): Promise<Journal | undefined> {
  const file = journalPath(vault);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const parsed = JournalSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new PanelError(`${file}: damaged rotation journal`, 'journal-corrupt', 'Check every location with `comfy-panel token audit`, fix them by hand, then delete the journal.');
  return parsed.data;
}

export async function openJournalSecrets(vault: Vault, journal: Journal): Promise<JournalSecrets> {
  return vault.open(journal.sealed, `journal:${journal.rotationId}`, SecretsSchema, journalPath(vault));
}

export async function createJournal(vault: Vault, head: Omit<Journal, 'sealed'>, secrets: JournalSecrets): Promise<Journal> {
  const journal: Journal = { ...head, sealed: await vault.seal(secrets, `journal:${head.rotationId}`) };
  await writeJournal(vault, journal);
  return journal;
}

export async function writeJournal(vault: Vault, journal: Journal): Promise<void> {
  await writeFileAtomic(journalPath(vault), `${JSON.stringify(journal, null, 2)}\n`, { mode: 0o600, backup: false });
}

/** A finished rotation's journal moves to backups/: its sealed backups stay restorable by hand. */
export async function archiveJournal(vault: Vault, journal: Journal): Promise<void> {
  const dir = path.join(vault.dir, 'backups');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.rename(journalPath(vault), path.join(dir, `rotation-${journal.rotationId}.journal.json`));
}
