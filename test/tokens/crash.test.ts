import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordFileContent } from '../../app/tokens/credential.js';
import { AUDIT_LOG } from '../../app/tokens/audit-log.js';
import { JOURNAL_FILE } from '../../app/tokens/journal.js';
import { secretFileLocation } from '../../app/tokens/locations.js';
import { credentialLockHolder, LOCK_PREFIX } from '../../app/tokens/lock.js';
import { recoverRotation, rotateCredential } from '../../app/tokens/rotation.js';
import { credentialFiles, hostDoubleServer, makeDeployment, useFastBcrypt } from './support.js';

useFastBcrypt();

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-crash-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const CHILD = path.resolve('test/tokens/fixtures/rotate-child.ts');

function runChild(args: string[]): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      env: { ...process.env, NODE_ENV: 'test', COMFY_PANEL_TEST_BCRYPT_COST: '4' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, out }));
  });
}

// Killed at each point, the next start settles the rotation fully back, or (once verified) fully forward.
const cases: { killAt: string; expect: 'old' | 'new' }[] = [
  { killAt: 'stage:ok', expect: 'old' },
  { killAt: 'write:between', expect: 'old' },
  { killAt: 'restart:ok', expect: 'old' },
  { killAt: 'verify:ok', expect: 'old' },
  { killAt: 'commit:started', expect: 'new' },
];

describe('a rotation process killed mid-way', () => {
  for (const c of cases) {
    it(`killed at ${c.killAt}: recovery ends fully ${c.expect}, no file lost`, async () => {
      const d = await makeDeployment(path.join(root, c.killAt.replace(':', '-')));
      const { signal, out } = await runChild([d.deploy, d.vault.dir, c.killAt]);
      expect(signal, out).toBe('SIGKILL');
      await fs.access(path.join(d.vault.dir, JOURNAL_FILE));
      expect((await fs.readdir(d.vault.dir)).some((f) => f.startsWith(LOCK_PREFIX)), 'a lock left by the dead process').toBe(true);

      const server = await hostDoubleServer(d.deploy); // "next start"
      try {
        const deps = {
          vault: d.vault,
          locations: [secretFileLocation(d.secret), secretFileLocation(d.mirror, 'mirror')],
          server,
          actor: 'cli:test',
          username: 'comfy',
        };
        const res = await recoverRotation(deps);
        expect(res.outcome).toBe(c.expect === 'old' ? 'rolled-back' : 'committed');
        const state = await d.vault.read();
        const inForce = c.expect === 'old' ? d.old : state!.current;
        if (c.expect === 'old') {
          expect(state).toEqual({ current: d.old });
          expect(await credentialFiles(d.deploy)).toEqual(d.before);
        } else {
          expect(state!.previous).toEqual(d.old);
          expect(Object.values(await credentialFiles(d.deploy))).toEqual([passwordFileContent(inForce), passwordFileContent(inForce)]);
        }
        await server.restart();
        await server.waitHealthy();
        expect((await server.probe(inForce.hash)).status).toBe(200);
        if (c.expect === 'new') expect((await server.probe(d.old.hash)).status).toBe(401);
        await expect(fs.access(path.join(d.vault.dir, JOURNAL_FILE))).rejects.toThrow();
        expect(await credentialLockHolder(d.vault.dir)).toBeUndefined();
        const log = await fs.readFile(path.join(d.vault.dir, AUDIT_LOG), 'utf8');
        expect(log).toContain('"kind":"recover"');
        expect(log).not.toContain(d.old.hash);
        expect(log).not.toContain(inForce.hash);
        // and the next rotation works normally
        expect((await rotateCredential(deps, { kind: 'rotate' })).outcome).toBe('committed');
      } finally {
        await server.close();
      }
    });
  }
});
