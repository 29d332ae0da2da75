import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { createClientKey, listClientKeys, rotateClientKey } from '../../app/gateway/clients.js';
import { issueClientKey } from '../../app/gateway/env-targets.js';
import { acquireCredentialLock } from '../../app/tokens/lock.js';

let root: string;
let stateDir: string;
let lockDir: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'env-targets-'));
  stateDir = path.join(root, 'gateway');
  lockDir = path.join(root, 'vault');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

// Two clients whose keys go into one file, as a compose file serving two notebooks would hold them.
const config = PanelConfigSchema.parse({
  gateway: { enabled: true },
  env: {
    targets: [
      { path: 'shared.env', dialect: 'dotenv', keys: { ALICE_KEY: 'token' }, clientKey: 'alice' },
      { path: 'shared.env', dialect: 'dotenv', keys: { BOB_KEY: 'token' }, clientKey: 'bob' },
    ],
  },
});
const file = () => path.join(root, 'shared.env');
const create = (name: string) => issueClientKey(config, root, lockDir, name, () => createClientKey(stateDir, { name, scope: 'generate' }));

describe('client keys written into env targets take the credential lock', () => {
  it('two keys issued at once into one file: one is written, the other refused before it is issued; no write is lost', async () => {
    const [a, b] = await Promise.allSettled([create('alice'), create('bob')]);
    const done = [a, b].filter((r) => r.status === 'fulfilled');
    const refused = [a, b].filter((r) => r.status === 'rejected');
    expect(done).toHaveLength(1);
    expect(refused.map((r) => (r.reason as { code?: string }).code)).toEqual(['credentials-locked']);
    const winner = done[0]!.value;
    const loser = winner.name === 'alice' ? 'bob' : 'alice';
    // The refused one issued no key nobody holds, and the file holds exactly the one issued.
    expect((await listClientKeys(stateDir)).map((k) => k.name)).toEqual([winner.name]);
    expect(readFileSync(file(), 'utf8')).toBe(`${winner.name.toUpperCase()}_KEY=${winner.key}\n`);
    const retried = await create(loser);
    expect(readFileSync(file(), 'utf8').split('\n').sort()).toEqual(['', `${loser.toUpperCase()}_KEY=${retried.key}`, `${winner.name.toUpperCase()}_KEY=${winner.key}`].sort());
  });

  it('while a credential rotation holds the lock, a key rotation into its file is refused naming it, and the key stays as it was', async () => {
    const first = await create('alice');
    const release = await acquireCredentialLock(lockDir, 'a credential rotation');
    try {
      await expect(issueClientKey(config, root, lockDir, 'alice', () => rotateClientKey(stateDir, 'alice', 0))).rejects.toMatchObject({
        code: 'credentials-locked',
        message: expect.stringMatching(/^a credential rotation is already running/) as unknown,
      });
    } finally {
      await release();
    }
    expect(readFileSync(file(), 'utf8')).toBe(`ALICE_KEY=${first.key}\n`);
    expect((await listClientKeys(stateDir)).map((k) => [k.name, k.state])).toEqual([['alice', 'active']]);
  });

  it('a key no target names takes no lock: it is issued while a rotation runs', async () => {
    const release = await acquireCredentialLock(lockDir, 'a credential rotation');
    try {
      await expect(create('carol')).resolves.toMatchObject({ name: 'carol', envFiles: [] });
    } finally {
      await release();
    }
  });
});
