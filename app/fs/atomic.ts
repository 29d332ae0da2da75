import { randomBytes } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { PanelError } from '../errors.js';
import { encodeLossless } from './lossless.js';
import { NOT_REGULAR, readRegularFile } from './regular.js';

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface AtomicWriteOptions {
  /** Mode of the written file; secrets use 0o600. Default: the existing file's mode, else `newMode`. */
  mode?: number;
  /** Mode of a file that does not exist yet, when `mode` is not given. Default 0o644. */
  newMode?: number;
  /**
   * Owner of a file that does not exist yet, e.g. the container user's uid:gid for a secret
   * file a non-root container reads. Default: this process's user. An existing file always
   * keeps its owner and group.
   */
  newOwner?: FileOwner;
  /** Copy the existing file to a timestamped backup (mode 0600) first. Default true. */
  backup?: boolean;
  /** Folder for backups; default: beside the file. */
  backupDir?: string;
}

export interface AtomicWriteResult {
  path: string;
  /** The file actually replaced: the link's target when `path` is a symbolic link. */
  target: string;
  backupPath?: string;
  changed: boolean;
}

/** Files we replace are capped generously: the limit only guards against a runaway or hostile file. */
const MAX_REPLACED_BYTES = 256 * 1024 * 1024;

/** A filesystem-safe timestamp for backup names, sortable. */
export function backupStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/**
 * Where a write to `file` must land: the file itself, or the final target of a symbolic
 * link (replacing the link by a regular file would cut off whoever shares the target).
 */
async function writeTarget(file: string): Promise<string> {
  let st: Stats;
  try {
    st = await fs.lstat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return file;
    throw e;
  }
  if (!st.isSymbolicLink()) return file;
  try {
    return await fs.realpath(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new PanelError(`${file} is a symbolic link to ${await fs.readlink(file)}, which does not exist; nothing was written`, 'fs-dangling-link', `Create the link's target, or replace the link by the file itself.`);
  }
}

async function readExisting(file: string): Promise<{ data: Buffer; stat: Stats } | undefined> {
  try {
    return await readRegularFile(file, MAX_REPLACED_BYTES);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof PanelError && e.code === NOT_REGULAR) throw new PanelError(`${e.message}; it was not replaced`, NOT_REGULAR, e.fix);
    throw e;
  }
}

/** Where the temp file goes: beside the target, named after it so `.env*` ignore patterns cover it. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Write through a temp file beside the target, fsync, then rename, so a reader sees the old
 * content or the new, never half. The replacement keeps the old file's owner, group and
 * mode (unless `mode` says otherwise); a symbolic link is written through to its target.
 * The temp file is 0600 until it is complete and removed on every failure. An unchanged
 * file is left alone. Strings are encoded with decodeLossless's inverse, so bytes that were
 * not valid UTF-8 when read are written back as they were.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<AtomicWriteResult> {
  const buf = typeof data === 'string' ? encodeLossless(data) : Buffer.from(data);
  const target = await writeTarget(file);
  const old = await readExisting(target);
  const oldMode = old ? old.stat.mode & 0o777 : undefined;
  const mode = opts.mode ?? oldMode ?? opts.newMode ?? 0o644;
  if (old && old.data.equals(buf) && oldMode === mode) return { path: file, target, changed: false };
  const owner = old ? { uid: old.stat.uid, gid: old.stat.gid } : opts.newOwner;

  let backupPath: string | undefined;
  if (old && opts.backup !== false) {
    const dir = opts.backupDir ?? path.dirname(target);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    backupPath = path.join(dir, `${path.basename(target)}.${backupStamp()}.${randomBytes(3).toString('hex')}.bak`);
    // Backups of env files and vaults hold secrets: never readable by others, whatever the original's mode.
    // A backup cut short (a full disk) is removed: half a secret file helps nobody.
    const partial = backupPath;
    await fs.writeFile(partial, old.data, { mode: 0o600, flag: 'wx' }).catch(async (e: unknown) => {
      await fs.rm(partial, { force: true }).catch(() => undefined);
      throw e;
    });
  }

  const tmp = tempPathFor(target);
  const handle = await fs.open(tmp, 'wx', 0o600);
  let closed = false;
  try {
    await handle.writeFile(buf);
    if (owner) await keepOwner(handle, owner, target);
    await handle.chmod(mode); // after chown (which may clear mode bits); umask does not apply to chmod
    await handle.sync();
    closed = true;
    await handle.close();
    await fs.rename(tmp, target);
  } catch (e) {
    if (!closed) await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDir(path.dirname(target));
  return { path: file, target, ...(backupPath ? { backupPath } : {}), changed: true };
}

async function keepOwner(handle: fs.FileHandle, owner: FileOwner, target: string): Promise<void> {
  const now = await handle.stat();
  if (now.uid === owner.uid && now.gid === owner.gid) return;
  try {
    await handle.chown(owner.uid, owner.gid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    throw new PanelError(
      `cannot give the new ${target} its owner ${owner.uid}:${owner.gid} (the panel runs as ${now.uid}:${now.gid}); nothing was written`,
      'fs-owner',
      `Run the panel as the file's owner or as root, or change the file's owner (chown) to the panel's user.`,
      { cause: e },
    );
  }
}

/** Makes the rename itself durable; best effort (not every platform can open a folder). */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}
