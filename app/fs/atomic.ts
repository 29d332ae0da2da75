import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file; secrets use 0o600. Default: keep the old file's mode, else 0o644. */
  mode?: number;
  /** Copy the existing file to a timestamped backup first. Default true. */
  backup?: boolean;
  /** Folder for backups; default: beside the file. */
  backupDir?: string;
}

export interface AtomicWriteResult {
  path: string;
  backupPath?: string;
  changed: boolean;
}

/** A filesystem-safe timestamp for backup names, sortable. */
export function backupStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/**
 * Write through a temp file in the same folder, fsync, then rename, so a reader sees
 * the old content or the new, never half. An unchanged file is left alone.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<AtomicWriteResult> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const old = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const oldMode = old ? (await fs.stat(file)).mode & 0o777 : undefined;
  const mode = opts.mode ?? oldMode ?? 0o644;
  if (old && old.equals(buf) && oldMode === mode) return { path: file, changed: false };

  let backupPath: string | undefined;
  if (old && opts.backup !== false) {
    const dir = opts.backupDir ?? path.dirname(file);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    backupPath = path.join(dir, `${path.basename(file)}.${backupStamp()}.${randomBytes(3).toString('hex')}.bak`);
    await fs.writeFile(backupPath, old, { mode: oldMode ?? 0o600, flag: 'wx' });
  }

  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(buf);
    await handle.chmod(mode); // umask may have narrowed the open() mode
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  return { path: file, backupPath, changed: true };
}
