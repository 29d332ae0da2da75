import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import {
  bcryptCost,
  createCredential,
  generatePassword,
  hashPassword,
  parsePasswordFile,
  passwordFileContent,
} from '../../app/tokens/credential.js';
import { fileKeyStore, wrappedKeyStore, type KeyWrapper } from '../../app/tokens/keystore.js';
import { KEY_FILE, Vault, VAULT_FILE, readCurrentCredential } from '../../app/tokens/vault.js';

process.env.COMFY_PANEL_TEST_BCRYPT_COST = '4';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-vault-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const mode = async (file: string) => (await fs.stat(file)).mode & 0o777;

describe('credential', () => {
  it('generates strong URL-safe passwords', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[A-Za-z0-9_-]{32}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(50);
  });

  it('hashes in a worker with a $2b$ bcrypt hash that verifies', async () => {
    const hash = await hashPassword('correct horse', 4);
    expect(hash).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/);
    expect(bcrypt.compareSync('correct horse', hash)).toBe(true);
    expect(bcrypt.compareSync('wrong', hash)).toBe(false);
  });

  it('uses cost 12 unless a test run lowers it', () => {
    expect(bcryptCost({})).toBe(12);
    expect(bcryptCost({ COMFY_PANEL_TEST_BCRYPT_COST: '4' })).toBe(12);
    expect(bcryptCost({ COMFY_PANEL_TEST_BCRYPT_COST: '4', NODE_ENV: 'test' })).toBe(4);
    expect(() => bcryptCost({ COMFY_PANEL_TEST_BCRYPT_COST: 'x', NODE_ENV: 'test' })).toThrow(/not a bcrypt cost/);
  });

  it('writes and parses the PASSWORD format without trailing newline', async () => {
    const cred = await createCredential('comfy');
    const text = passwordFileContent(cred);
    expect(text).toBe(`${cred.hash}\ncomfy`);
    expect(parsePasswordFile(text)).toEqual({ ok: true, hash: cred.hash, username: 'comfy' });
    expect(parsePasswordFile(`${cred.hash}\r\ncomfy\n`)).toEqual({ ok: true, hash: cred.hash, username: 'comfy' });
    expect(parsePasswordFile('plaintext\ncomfy')).toEqual({ ok: false, reason: 'line 1 is not a bcrypt hash' });
    expect(parsePasswordFile('')).toEqual({ ok: false, reason: 'line 1 is empty' });
  });
});

describe('vault', () => {
  it('round-trips current and previous, encrypted, 0600 files', async () => {
    const dir = path.join(tmp, 'roundtrip');
    const vault = new Vault(dir);
    expect(await vault.read()).toBeUndefined();
    const current = await createCredential('comfy');
    const previous = await createCredential('comfy');
    await vault.write({ current, previous });
    expect(await vault.read()).toEqual({ current, previous });
    expect(await mode(path.join(dir, VAULT_FILE))).toBe(0o600);
    expect(await mode(path.join(dir, KEY_FILE))).toBe(0o600);
    const raw = await fs.readFile(path.join(dir, VAULT_FILE), 'utf8');
    for (const secret of [current.hash, current.password!, previous.hash, previous.password!]) expect(raw).not.toContain(secret);
    // a second write keeps a backup, also 0600
    await vault.write({ current: previous, previous: current });
    const backups = await fs.readdir(path.join(dir, 'backups'));
    expect(backups).toHaveLength(1);
    expect(await mode(path.join(dir, 'backups', backups[0]!))).toBe(0o600);
  });

  it('readCurrentCredential reads config.vault.dir, else <dataDir>/vault', async () => {
    const paths = panelPaths({ COMFY_PANEL_HOME: path.join(tmp, 'home') });
    const cred = await createCredential('alice');
    await new Vault(path.join(paths.dataDir, 'vault')).write({ current: cred });
    expect(await readCurrentCredential(parseConfig({}), paths)).toEqual(cred);
    expect(await readCurrentCredential(parseConfig({ vault: { dir: path.join(tmp, 'elsewhere') } }), paths)).toBeUndefined();
  });

  it('detects tampering', async () => {
    const dir = path.join(tmp, 'tamper');
    await new Vault(dir).write({ current: await createCredential('comfy') });
    const file = path.join(dir, VAULT_FILE);
    const env = JSON.parse(await fs.readFile(file, 'utf8'));
    const data = Buffer.from(env.sealed.data, 'base64');
    data[0] = data[0]! ^ 1;
    env.sealed.data = data.toString('base64');
    await fs.writeFile(file, JSON.stringify(env));
    await expect(new Vault(dir).read()).rejects.toThrow(/credential\.vault\.json: integrity check failed/);
    await fs.writeFile(file, 'not json');
    await expect(new Vault(dir).read()).rejects.toThrow(/not a comfy-panel vault file/);
  });

  it('a wrong or missing key gives a clear error', async () => {
    const dir = path.join(tmp, 'wrongkey');
    await new Vault(dir).write({ current: await createCredential('comfy') });
    const keyFile = path.join(dir, KEY_FILE);
    await fs.writeFile(keyFile, Buffer.alloc(32, 7).toString('base64'), { mode: 0o600 });
    await expect(new Vault(dir).read()).rejects.toThrow(/encrypted with a different key/);
    await fs.rm(keyFile);
    await expect(new Vault(dir).read()).rejects.toThrow(/the vault key is missing/);
  });

  it('refuses a key file readable by others', async () => {
    const dir = path.join(tmp, 'openkey');
    await new Vault(dir).write({ current: await createCredential('comfy') });
    await fs.chmod(path.join(dir, KEY_FILE), 0o644);
    await expect(new Vault(dir).read()).rejects.toThrow(/readable by others \(mode 644\)/);
  });

  it('a safeStorage-style wrapped key works, and basic_text is refused unless allowed', async () => {
    const xor = async (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
    const wrapper = (backend: string): KeyWrapper => ({ backend: async () => backend, encrypt: xor, decrypt: xor });
    const dir = path.join(tmp, 'wrapped');
    const keyFile = path.join(dir, 'vault.key.wrapped');
    const cred = await createCredential('comfy');
    await new Vault(dir, wrappedKeyStore(keyFile, wrapper('gnome_libsecret'))).write({ current: cred });
    expect(await new Vault(dir, wrappedKeyStore(keyFile, wrapper('gnome_libsecret'))).read()).toEqual({ current: cred });
    expect(await wrappedKeyStore(keyFile, wrapper('gnome_libsecret')).info()).toEqual({ backend: 'gnome_libsecret', secure: true });
    await expect(new Vault(dir, wrappedKeyStore(keyFile, wrapper('basic_text'))).read()).rejects.toThrow(/basic_text/);
    const insecure = wrappedKeyStore(keyFile, wrapper('basic_text'), { allowInsecure: true });
    expect(await new Vault(dir, insecure).read()).toEqual({ current: cred });
    expect(await insecure.info()).toMatchObject({ secure: false, warning: expect.stringContaining('basic_text') });
    expect(await fileKeyStore(path.join(dir, 'k')).info()).toMatchObject({ backend: 'key-file', secure: false });
  });
});
