import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PanelError } from '../errors.js';

/**
 * The one lock every writer of credential locations takes: rotate, init, unify, recover,
 * `env sync`, token import. Files in the vault folder, so it is per vault (per instance).
 */
export const LOCK_PREFIX = 'credentials.lock';
const GENERATION = /^credentials\.lock\.(\d+)$/;
const RELEASED = '.released';

export interface LockInfo {
  pid: number;
  host: string;
  time: string;
  /** What holds it, with its article: "a credential rotation", "an env sync". */
  operation: string;
  nonce: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function generations(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  return names.flatMap((n) => {
    const m = GENERATION.exec(n);
    return m ? [Number(m[1])] : [];
  });
}

const lockName = (dir: string, n: number) => path.join(dir, `${LOCK_PREFIX}.${n}`);

async function readInfo(file: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockInfo>;
    return typeof info.pid === 'number' && typeof info.host === 'string' ? (info as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** Generation n's file, created with its full content or not at all (link fails when it exists). */
async function createExclusive(file: string, info: LockInfo): Promise<boolean> {
  const tmp = `${file}.${info.nonce}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(info), { mode: 0o600, flag: 'wx' });
  try {
    await fs.link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Who holds generation n, or undefined when it is free: released, left by a dead process on this host, or unreadable. */
async function holder(dir: string, n: number): Promise<LockInfo | undefined> {
  const file = lockName(dir, n);
  const released = await fs.access(`${file}${RELEASED}`).then(() => true, () => false);
  if (released) return undefined;
  const info = await readInfo(file);
  if (!info) return undefined; // content always lands whole (link), so this is damage, not a write in progress
  // A lock from another host is never stale: its pid means nothing here.
  return info.host !== os.hostname() || alive(info.pid) ? info : undefined;
}

export type ReleaseLock = () => Promise<void>;

/**
 * Takes the credential lock, or throws `credentials-locked` naming who holds it. The lock is
 * a sequence of generation files; taking it means creating the next generation exclusively
 * (link), then checking no newer one appeared. Taking over a stale lock is therefore the
 * same atomic step as taking a free one: of any number of racing processes exactly one
 * creates generation n+1, and one that acted on an older view sees the newer generation and
 * backs off. The newest generation is never deleted (release marks it), so that holds for
 * late comers too.
 */
export async function acquireCredentialLock(dir: string, operation: string): Promise<ReleaseLock> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), time: new Date().toISOString(), operation, nonce: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 50; attempt++) {
    const top = Math.max(0, ...(await generations(dir)));
    if (top > 0) {
      const held = await holder(dir, top);
      if (held) {
        throw new PanelError(
          `${held.operation ?? 'a credential operation'} is already running (pid ${held.pid} on ${held.host} since ${held.time})`,
          'credentials-locked',
          `Wait for it to finish and try again. If that process is gone (another machine sharing the folder), delete ${path.join(dir, `${LOCK_PREFIX}.*`)}.`,
        );
      }
    }
    const n = top + 1;
    if (!(await createExclusive(lockName(dir, n), mine))) continue; // another process took n: look again
    if ((await generations(dir)).some((g) => g > n)) {
      await fs.rm(lockName(dir, n), { force: true }); // n was taken from an older view: a newer generation wins
      continue;
    }
    await cleanup(dir, n);
    return async () => {
      const held = await readInfo(lockName(dir, n));
      if (held?.nonce === mine.nonce) await fs.writeFile(`${lockName(dir, n)}${RELEASED}`, '', { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    };
  }
  throw new PanelError(`could not take the credential lock in ${dir}: other processes keep taking it`, 'credentials-locked', 'Retry in a moment.');
}

/** Older generations and their markers: nobody can take or hold those any more. */
async function cleanup(dir: string, n: number): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    const m = /^credentials\.lock\.(\d+)(\.released)?$/.exec(name);
    if (m && Number(m[1]) < n) await fs.rm(path.join(dir, name), { force: true });
  }
}

/** Runs fn holding the lock. */
export async function withCredentialLock<T>(dir: string, operation: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquireCredentialLock(dir, operation);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Whether any process holds the lock now (for tests and diagnostics). */
export async function credentialLockHolder(dir: string): Promise<LockInfo | undefined> {
  const gens = await generations(dir).catch(() => []);
  return gens.length ? holder(dir, Math.max(...gens)) : undefined;
}
