/**
 * The credential lock (issue 16 items 2 and 15): taking over a lock left by a dead process is
 * atomic, so racing processes never both hold it; a live holder is named in the refusal.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireCredentialLock, credentialLockHolder, LOCK_PREFIX } from '../../app/tokens/lock.js';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-lock-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const CHILD = path.resolve('test/tokens/fixtures/lock-child.ts');
const RACERS = 4;
const TAKEOVERS = 30;

describe('the credential lock', () => {
  it('refuses while a live process holds it, naming the operation, and is free again after release', async () => {
    const dir = path.join(root, 'basic');
    const release = await acquireCredentialLock(dir, 'a credential rotation');
    await expect(acquireCredentialLock(dir, 'an env sync')).rejects.toThrow(/a credential rotation is already running \(pid \d+ on .+ since /);
    expect(await credentialLockHolder(dir)).toMatchObject({ pid: process.pid, operation: 'a credential rotation' });
    await release();
    expect(await credentialLockHolder(dir)).toBeUndefined();
    const again = await acquireCredentialLock(dir, 'an env sync');
    await again();
    // every file is private, and released generations do not pile up
    const files = await fs.readdir(dir);
    expect(files.length).toBeLessThanOrEqual(2);
    for (const f of files) expect((await fs.stat(path.join(dir, f))).mode & 0o077).toBe(0);
  });

  it(`${RACERS} processes racing to take over a stale lock ${TAKEOVERS} times never both hold it`, async () => {
    const dir = path.join(root, 'race');
    await fs.mkdir(dir, { recursive: true });
    // a lock left by a dead process to begin with
    await fs.writeFile(path.join(dir, `${LOCK_PREFIX}.1`), JSON.stringify({ pid: 2 ** 22 + 999, host: os.hostname(), time: 'then', operation: 'a dead rotation', nonce: 'x' }));
    const log = path.join(root, 'race.log');
    await fs.writeFile(log, '');
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, dir, log, String(TAKEOVERS)], { timeout: 120_000 });
    await Promise.all(Array.from({ length: RACERS }, run));
    const lines = (await fs.readFile(log, 'utf8')).trim().split('\n');
    expect(lines.filter((l) => l.startsWith('TWO'))).toEqual([]);
    // entries and exits strictly alternate: never two inside at once
    let inside: string | undefined;
    for (const l of lines) {
      const [what, pid] = l.split(' ');
      if (what === 'enter') {
        expect(inside, `${pid} entered while ${inside} was inside`).toBeUndefined();
        inside = pid;
      } else {
        expect(pid).toBe(inside);
        inside = undefined;
      }
    }
    expect(lines.filter((l) => l.startsWith('enter')).length).toBeGreaterThanOrEqual(TAKEOVERS);
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBeGreaterThan(1); // they really raced
  }, 180_000);
});
