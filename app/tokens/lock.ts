import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PanelError } from '../errors.js';

export const LOCK_FILE = 'rotation.lock';

interface LockInfo {
  pid: number;
  host: string;
  time: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock file (pid, host, time) so two rotations never interleave. A lock left
 * by a dead process on this host is stale and taken over; one from another host is not
 * (its pid means nothing here) and must be removed by the operator.
 */
export async function acquireRotationLock(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), time: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(mine), { flag: 'wx', mode: 0o600 });
      return async () => {
        const held = await readLock(file);
        if (held?.pid === mine.pid && held.time === mine.time) await fs.rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = await readLock(file);
    // An unreadable lock may be one being written this instant: look again before judging it.
    if (held === undefined && attempt === 0) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const stale = held === undefined || (held.host === mine.host && !alive(held.pid));
    if (!stale) {
      throw new PanelError(
        `a credential rotation is already running (pid ${held.pid} on ${held.host} since ${held.time})`,
        'rotation-locked',
        `Wait for it to finish. If that process is gone, delete ${file}.`,
      );
    }
    await fs.rm(file, { force: true });
  }
  throw new PanelError(`could not take the rotation lock ${file}`, 'rotation-locked', 'Retry; if it persists, delete the lock file.');
}
