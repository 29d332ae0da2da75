/**
 * Backups hold old credentials (sealed vault copies and journals, plaintext env files): keep
 * the newest few of each series, delete the rest, and keep what stays private (0600 files,
 * 0700 folders). Applied after each successful rotation and env sync.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PanelConfig } from '../config/schema.js';

export interface RetentionPolicy {
  /** Newest backups kept per series (config backups.keep). */
  keep: number;
  /** Where env sync puts target backups (mirroring each target's folder). */
  envBackupDir?: string;
}

/** The policy a config asks for, for a data folder's env backups. */
export function retentionOf(config: Pick<PanelConfig, 'backups'>, envBackupDir: string): RetentionPolicy {
  return { keep: config.backups.keep, envBackupDir };
}

/** The series a backup file belongs to (newest kept per series), or undefined for files that are not backups. */
function seriesOf(name: string): string | undefined {
  const journal = /^(rotation|env-sync|damaged)-.*\.journal\.json$/.exec(name);
  if (journal) return `journal:${journal[1]}`;
  // writeFileAtomic's backups: <file>.<stamp>.<hex>.bak
  const bak = /^(.*)\.\d{4}-\d\d-\d\dT[\d-]+Z\.[0-9a-f]+\.bak$/.exec(name);
  return bak ? `bak:${bak[1]}` : undefined;
}

async function entries(dir: string) {
  return fs.readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
}

/** Prunes one folder (and, for env backups, its subfolders); returns the files removed. */
async function pruneDir(dir: string, keep: number, recursive: boolean): Promise<string[]> {
  const list = await entries(dir);
  if (list.length === 0) return [];
  await fs.chmod(dir, 0o700);
  const removed: string[] = [];
  const series = new Map<string, string[]>();
  for (const e of list) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) removed.push(...(await pruneDir(p, keep, true)));
      continue;
    }
    const s = e.isFile() ? seriesOf(e.name) : undefined;
    if (s) series.set(s, [...(series.get(s) ?? []), e.name]);
  }
  for (const names of series.values()) {
    // Names carry a sortable timestamp: the last ones are the newest.
    const sorted = names.sort();
    for (const name of sorted.slice(0, Math.max(0, sorted.length - keep))) {
      await fs.rm(path.join(dir, name), { force: true });
      removed.push(path.join(dir, name));
    }
    for (const name of sorted.slice(Math.max(0, sorted.length - keep))) await fs.chmod(path.join(dir, name), 0o600);
  }
  return removed;
}

/** Applies the policy to the vault's backups/ (vault copies, journals) and to the env backups; returns what it deleted. */
export async function pruneBackups(vaultDir: string, policy: RetentionPolicy): Promise<string[]> {
  const removed = await pruneDir(path.join(vaultDir, 'backups'), policy.keep, false);
  if (policy.envBackupDir) {
    removed.push(...(await pruneDir(policy.envBackupDir, policy.keep, true)));
    // its parent (the data folder's backups/) holds secrets' copies too
    await fs.chmod(path.dirname(policy.envBackupDir), 0o700).catch(() => undefined);
  }
  return removed;
}
