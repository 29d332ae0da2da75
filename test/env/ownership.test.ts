/**
 * Issue 13.5: every replacement keeps the file's owner, group and mode, so a secret file
 * owned by the container's uid 1000 stays readable by it after a rotation, a rollback or an
 * env sync run as root. Needs root (to create files owned by another user); skipped otherwise.
 */
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnvTarget } from '../../app/config/schema.js';
import { applyEnvSync, planEnvSync } from '../../app/env/index.js';
import { writeFileAtomic } from '../../app/fs/atomic.js';
import { createCredential, passwordFileContent } from '../../app/tokens/credential.js';
import { envTargetLocation } from '../../app/tokens/env-location.js';
import { secretFileLocation } from '../../app/tokens/locations.js';
import { rotateCredential } from '../../app/tokens/rotation.js';
import { Vault } from '../../app/tokens/vault.js';
import { hostDoubleServer, useFastBcrypt } from '../tokens/support.js';
import { read, tempDir } from './support.js';

useFastBcrypt();

const asRoot = process.getuid?.() === 0;
const USER = { uid: 1000, gid: 1000 };
const owned = (file: string) => {
  const st = statSync(file);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
};
/** A file as the container user would have made it. */
function userFile(file: string, text: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  chownSync(file, USER.uid, USER.gid);
}

describe.skipIf(!asRoot)('as root, files owned by uid 1000 keep owner, group and mode (skipped unless run as root)', () => {
  const t = tempDir('env-owner-');
  afterAll(() => t.cleanup());
  const URL = 'http://127.0.0.1:8188';

  it('env sync: the owner stays; a token file 0600 stays 0600, a 0640 file without a secret stays 0640; the rollback keeps both', async () => {
    const root = path.join(t.dir, 'sync');
    userFile(path.join(root, '.env'), "# mine\nCOMFYUI_BEARER_TOKEN='old'\n", 0o600);
    userFile(path.join(root, 'urls.env'), 'COMFYUI_URL=http://old:1\n', 0o640);
    const targets: EnvTarget[] = [
      { path: '.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token' } },
      { path: 'urls.env', dialect: 'dotenv', keys: { COMFYUI_URL: 'url' } },
    ];
    const cred = await createCredential('comfy');
    const result = await applyEnvSync(await planEnvSync(targets, root, { token: cred.hash, url: URL }), { backupDir: path.join(t.dir, 'backups') });
    expect(result.written.map((w) => w.file)).toEqual(['.env', 'urls.env']);
    expect(owned(path.join(root, '.env'))).toEqual({ ...USER, mode: 0o600 });
    expect(owned(path.join(root, 'urls.env'))).toEqual({ ...USER, mode: 0o640 });

    // A failed sync rolls back: the first target is written, the second write fails.
    const before = [read(path.join(root, '.env')), read(path.join(root, 'urls.env'))];
    const next = await createCredential('comfy');
    let calls = 0;
    const failing: typeof writeFileAtomic = async (file, data, o) => {
      if (++calls === 2) throw new Error('injected: disk full');
      return writeFileAtomic(file, data, o);
    };
    await expect(applyEnvSync(await planEnvSync(targets, root, { token: next.hash, url: 'http://new:2' }), { write: failing })).rejects.toThrow(/rolled back/);
    expect([read(path.join(root, '.env')), read(path.join(root, 'urls.env'))]).toEqual(before);
    expect(owned(path.join(root, '.env'))).toEqual({ ...USER, mode: 0o600 });
    expect(owned(path.join(root, 'urls.env'))).toEqual({ ...USER, mode: 0o640 });
  });

  it('an env file holding the token is tightened from 0640 to 0600, its owner kept', async () => {
    const root = path.join(t.dir, 'tighten');
    userFile(path.join(root, '.env'), 'COMFYUI_BEARER_TOKEN=\n', 0o640);
    const cred = await createCredential('comfy');
    await applyEnvSync(await planEnvSync([{ path: '.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token' } }], root, { token: cred.hash }));
    expect(owned(path.join(root, '.env'))).toEqual({ ...USER, mode: 0o600 });
  });

  it('rotation writes (env target, secret file) and their restore keep owner and mode', async () => {
    const dir = path.join(t.dir, 'locations');
    const secret = path.join(dir, 'secrets', 'comfyui-password');
    const old = await createCredential('comfy');
    userFile(secret, passwordFileContent(old), 0o640);
    userFile(path.join(dir, '.env'), `COMFYUI_BEARER_TOKEN='${old.hash}'\n`, 0o600);
    const locations = [secretFileLocation(secret), envTargetLocation({ path: '.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token' } }, dir, URL)];
    const snaps = await Promise.all(locations.map((l) => l.snapshot()));
    const originals = [read(secret), read(path.join(dir, '.env'))];
    const cred = await createCredential('comfy');
    for (const l of locations) await l.write(cred);
    expect(read(secret)).toBe(passwordFileContent(cred));
    expect(owned(secret)).toEqual({ ...USER, mode: 0o640 });
    expect(owned(path.join(dir, '.env'))).toEqual({ ...USER, mode: 0o600 });
    for (const [i, l] of locations.entries()) await l.restore(snaps[i]!);
    expect([read(secret), read(path.join(dir, '.env'))]).toEqual(originals);
    expect(owned(secret)).toEqual({ ...USER, mode: 0o640 });
    expect(owned(path.join(dir, '.env'))).toEqual({ ...USER, mode: 0o600 });
  });

  it('a real rotation and a rolled-back one against the double leave the uid-1000 secret file readable by its owner', async () => {
    const deploy = path.join(t.dir, 'deploy');
    const old = await createCredential('comfy');
    const secret = path.join(deploy, 'login', 'PASSWORD');
    userFile(secret, passwordFileContent(old), 0o640);
    const vault = new Vault(path.join(t.dir, 'vault'));
    await vault.write({ current: old });
    const server = await hostDoubleServer(deploy);
    try {
      const deps = { vault, locations: [secretFileLocation(secret)], server, actor: 'cli:test@host', username: 'comfy' };
      expect(await rotateCredential(deps, { kind: 'rotate' })).toMatchObject({ ok: true });
      expect(owned(secret)).toEqual({ ...USER, mode: 0o640 });
      const committed = read(secret);
      server.faults.verify = 1;
      expect(await rotateCredential(deps, { kind: 'rotate' })).toMatchObject({ ok: false });
      expect(read(secret)).toBe(committed);
      expect(owned(secret)).toEqual({ ...USER, mode: 0o640 });
    } finally {
      await server.close();
    }
  });

  it('a new secret file gets the container user as owner when given, 0600', async () => {
    const file = path.join(t.dir, 'new', 'secret');
    await secretFileLocation(file, 'secret-file', { newOwner: USER }).write(await createCredential('comfy'));
    expect(owned(file)).toEqual({ ...USER, mode: 0o600 });
    // Without one it is the panel's (root's), still 0600.
    const mine = path.join(t.dir, 'new', 'mine');
    await secretFileLocation(mine).write(await createCredential('comfy'));
    expect(owned(mine)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
  });

  it('writeFileAtomic: owner and mode kept for any file (config saves too); a restored file that had vanished gets its owner back', async () => {
    const file = path.join(t.dir, 'config.json');
    userFile(file, '{}\n', 0o644);
    await writeFileAtomic(file, '{"a":1}\n', { backup: false });
    expect(owned(file)).toEqual({ ...USER, mode: 0o644 });
    const snap = await secretFileLocation(file).snapshot();
    await fs.rm(file);
    await secretFileLocation(file).restore(snap);
    expect(owned(file)).toEqual({ ...USER, mode: 0o644 });
    expect(read(file)).toBe('{"a":1}\n');
  });
});
