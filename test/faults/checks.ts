/**
 * What every fault run is judged by: is the credential fully old or fully new everywhere
 * (vault, every location read back by its own reader, the live server), and is every file
 * that existed before still recoverable byte for byte. Problems name fingerprints, never secrets.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnvTarget } from '../../app/config/schema.js';
import { readEnvValues } from '../../app/env/index.js';
import { errorMessage } from '../../app/errors.js';
import { fingerprint } from '../../app/redact.js';
import type { Credential } from '../../app/tokens/credential.js';
import { envValuesFor } from '../../app/tokens/env-location.js';
import { JOURNAL_FILE, openJournalSecrets, readJournal, type Journal, type JournalSecrets, type SyncSecrets } from '../../app/tokens/journal.js';
import type { CredentialLocation, ValueSource } from '../../app/tokens/locations.js';
import { credentialLockHolder } from '../../app/tokens/lock.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';
import type { Vault } from '../../app/tokens/vault.js';

/** A lock left by a killed process is taken over by the next rotation; one held by a live process (this one) is a leak. */
async function lockHeldByLiveProcess(dir: string): Promise<boolean> {
  return (await credentialLockHolder(dir)) !== undefined;
}

function expectedValue(cred: Credential, source: ValueSource, url: string): string | undefined {
  return source === 'token' ? cred.hash : source === 'username' ? cred.username : source === 'password' ? cred.password : url;
}

export interface RotationView {
  vault: Vault;
  /** Unwrapped locations, read back with their own readers (container PASSWORD included). */
  locations: CredentialLocation[];
  server: ComfyServerControl;
  url: string;
  /** Every credential the run may have put somewhere: the live server must refuse all but the vault's. */
  known: Credential[];
}

/** Empty when the vault, every location and the live server agree on one credential and nothing is pending. */
export async function rotationProblems(v: RotationView): Promise<string[]> {
  const problems: string[] = [];
  if (await readJournal(v.vault)) problems.push('a rotation journal is still pending');
  if (await lockHeldByLiveProcess(v.vault.dir)) problems.push('the rotation lock is still held by a live process');
  const current = (await v.vault.read())?.current;
  if (!current) return [...problems, 'the vault holds no credential'];
  const want = fingerprint(current.hash);
  for (const loc of v.locations) {
    const r = await loc.read();
    if (r.state !== 'present') {
      problems.push(`${loc.name}: ${r.state}`);
      continue;
    }
    for (const [source, value] of Object.entries(r.values) as [ValueSource, string][]) {
      const expected = expectedValue(current, source, v.url);
      if (value !== expected) problems.push(`${loc.name}: ${source} ${source === 'url' ? value : fingerprint(value)}, vault ${source === 'url' ? v.url : want}`);
    }
  }
  const accepted = await v.server.probe(current.hash);
  if (accepted.status !== 200) problems.push(`the server answers ${accepted.status ?? accepted.error} to the vault's token ${want}`);
  for (const other of [undefined, ...v.known.filter((c) => c.hash !== current.hash).map((c) => c.hash)]) {
    const r = await v.server.probe(other);
    if (r.status !== 401) problems.push(`the server answers ${r.status ?? r.error} to ${other ? fingerprint(other) : 'no token'}, expected 401`);
  }
  return problems;
}

/** Problems of env targets against one credential, each read by its dialect's reader. */
export async function envProblems(root: string, targets: EnvTarget[], cred: Credential, url: string): Promise<string[]> {
  const problems: string[] = [];
  for (const t of targets) {
    const file = path.join(root, t.path);
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      problems.push(`${t.path}: missing`);
      continue;
    }
    let got: Record<string, string>;
    try {
      got = readEnvValues(text, t.dialect, { file, lookup: () => undefined });
    } catch (e) {
      problems.push(`${t.path}: unreadable as ${t.dialect} (${errorMessage(e).slice(0, 80)})`);
      continue;
    }
    for (const [key, value] of Object.entries(envValuesFor(t, cred, url))) {
      if (got[key] !== value) problems.push(`${t.path}: ${key} is not ${key.endsWith('URL') ? value : fingerprint(value)}`);
    }
  }
  return problems;
}

/** The bytes of every file (of those listed) that exists now. */
export async function fileBytes(files: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of files) {
    const data = await fs.readFile(f).catch(() => undefined);
    if (data) out.set(f, data);
  }
  return out;
}

/** Every file under dir: env backups mirror each target's folder. */
async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true }).catch(() => [] as string[])).map((n) => path.join(dir, n));
}

/** Every journal (rotation or env sync), pending or archived, with its sealed part opened. */
export async function readJournals(vault: Vault): Promise<{ journal: Journal; secrets: JournalSecrets | SyncSecrets }[]> {
  const files = [path.join(vault.dir, JOURNAL_FILE), ...(await listDir(path.join(vault.dir, 'backups'))).filter((f) => /(rotation|env-sync)-.*\.journal\.json$/.test(f))];
  const out: { journal: Journal; secrets: JournalSecrets | SyncSecrets }[] = [];
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const journal = JSON.parse(text) as Journal;
    out.push({ journal, secrets: await openJournalSecrets(vault, journal) });
  }
  return out;
}

/** Snapshot contents per host path from every journal. */
async function journalBackups(vault: Vault, hostPathOf: (locationPath: string) => string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const { journal, secrets } of await readJournals(vault)) {
    for (const loc of journal.locations) {
      const snap = secrets.backups[loc.name];
      const content = !snap ? undefined : 'written' in snap ? (snap.data === undefined ? undefined : Buffer.from(snap.data, 'base64').toString('utf8')) : snap.content;
      if (content === undefined) continue;
      const key = hostPathOf(loc.path);
      out.set(key, (out.get(key) ?? new Set()).add(content));
    }
  }
  return out;
}

export interface LostFilesInput {
  before: Map<string, Buffer>;
  vault: Vault;
  /** Folders the panel writes .bak files to besides each file's own (vault/backups, the env backup dir). */
  backupDirs: string[];
  hostPathOf?: (locationPath: string) => string;
}

/** The files whose original bytes are neither in place nor in any backup the panel made. */
export async function lostFiles(input: LostFilesInput): Promise<string[]> {
  const journals = await journalBackups(input.vault, input.hostPathOf ?? ((p) => p));
  const lost: string[] = [];
  for (const [file, original] of input.before) {
    const now = await fs.readFile(file).catch(() => undefined);
    if (now?.equals(original)) continue;
    if (journals.get(file)?.has(original.toString('utf8'))) continue;
    const prefix = `${path.basename(file)}.`;
    const baks = (await Promise.all([...input.backupDirs, path.dirname(file)].map(listDir))).flat().filter((b) => path.basename(b).startsWith(prefix) && b.endsWith('.bak'));
    const found = await Promise.all(baks.map(async (b) => (await fs.readFile(b)).equals(original)));
    if (!found.includes(true)) lost.push(file);
  }
  return lost;
}
