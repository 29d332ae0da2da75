import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvValues } from '../../app/env/index.js';
import { fingerprint } from '../../app/redact.js';
import { importFromEnvFile } from '../../app/tokens/adopt.js';
import { auditCredential, findTokenByFingerprint } from '../../app/tokens/audit.js';
import { createCredential, passwordFileContent, type Credential } from '../../app/tokens/credential.js';
import { envTargetLocation } from '../../app/tokens/env-location.js';
import { secretFileLocation } from '../../app/tokens/locations.js';
import { Vault } from '../../app/tokens/vault.js';
import { hostDoubleServer, useFastBcrypt } from './support.js';

useFastBcrypt();

let dir: string;
let cred: Credential;
let old: Credential;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tokens-locations-'));
  old = await createCredential('comfy');
  // compose drops `$x...` (x a letter) as a variable but keeps `$.` or `$1`: make the salt start with a letter,
  // so an unquoted copy of this hash is really mangled for compose
  do cred = await createCredential('comfy');
  while (!/^\$2b\$\d\d\$[A-Za-z]/.test(cred.hash));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const URL = 'http://127.0.0.1:8188';
const keys = { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url', COMFYUI_USER: 'username', COMFYUI_PASSWORD: 'password' } as const;

describe('env target locations', () => {
  it('compose: the hash goes single-quoted and compose reads it back exactly; other lines are kept', async () => {
    const file = path.join(dir, 'compose.env');
    await fs.writeFile(file, '# GPU box\nOTHER=1\nCOMFYUI_BEARER_TOKEN=old\n', { mode: 0o640 });
    const loc = envTargetLocation({ path: 'compose.env', dialect: 'compose', keys }, dir, URL);
    await loc.write(cred);
    const text = await fs.readFile(file, 'utf8');
    expect(text).toContain(`COMFYUI_BEARER_TOKEN='${cred.hash}'`);
    expect(text.startsWith('# GPU box\nOTHER=1\n')).toBe(true);
    // It holds the token now: readable by its owner only (the owner itself is kept).
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const read = readEnvValues(text, 'compose', { lookup: () => undefined });
    expect(read).toMatchObject({ OTHER: '1', COMFYUI_BEARER_TOKEN: cred.hash, COMFYUI_URL: URL, COMFYUI_USER: 'comfy', COMFYUI_PASSWORD: cred.password });
    expect(await loc.read()).toMatchObject({ state: 'present', token: cred.hash });
  });

  it('dotenv: the real dotenv package parses the exact hash; a new file is created 0600', async () => {
    const loc = envTargetLocation({ path: 'nb/.env', dialect: 'dotenv', keys }, dir, URL);
    await loc.write(cred);
    const file = path.join(dir, 'nb/.env');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const parsed = dotenv.parse(await fs.readFile(file, 'utf8'));
    expect(parsed).toEqual({ COMFYUI_BEARER_TOKEN: cred.hash, COMFYUI_URL: URL, COMFYUI_USER: 'comfy', COMFYUI_PASSWORD: cred.password });
  });

  it('raw: the hash is written bare, as docker run --env-file reads it', async () => {
    const loc = envTargetLocation({ path: 'raw.env', dialect: 'raw', keys: { TOKEN: 'token' } }, dir, URL);
    await loc.write(cred);
    expect(await fs.readFile(path.join(dir, 'raw.env'), 'utf8')).toContain(`TOKEN=${cred.hash}`);
    expect(await loc.read()).toMatchObject({ state: 'present', token: cred.hash });
  });

  it('snapshot and restore give back the exact bytes, or remove a file that did not exist', async () => {
    const loc = envTargetLocation({ path: 'restore.env', dialect: 'dotenv', keys }, dir, URL);
    const none = await loc.snapshot();
    await loc.write(cred);
    await loc.restore(none);
    await expect(fs.access(path.join(dir, 'restore.env'))).rejects.toThrow();
    const original = "A=1\r\nCOMFYUI_BEARER_TOKEN='x' # note\r\n";
    await fs.writeFile(path.join(dir, 'restore.env'), original, { mode: 0o644 });
    const snap = await loc.snapshot();
    await loc.write(cred);
    await loc.restore(snap);
    expect(await fs.readFile(path.join(dir, 'restore.env'), 'utf8')).toBe(original);
    expect((await fs.stat(path.join(dir, 'restore.env'))).mode & 0o777).toBe(0o644);
  });
});

describe('audit', () => {
  it('classifies every location and reports the live facts, fingerprints only', async () => {
    const base = path.join(dir, 'audit');
    const comfy = path.join(base, 'comfy');
    await fs.mkdir(path.join(comfy, 'login'), { recursive: true });
    await fs.writeFile(path.join(comfy, 'login', 'PASSWORD'), passwordFileContent(cred));
    const stranger = await createCredential('comfy');
    const files: Record<string, string> = {
      'match.env': `T='${cred.hash}'\n`,
      'stale.env': `T='${old.hash}'\n`,
      'other.env': `T='${stranger.hash}'\n`,
      'nokey.env': 'X=1\n',
      'badurl.env': `T='${cred.hash}'\nURL=http://10.0.0.9:8188\n`,
      'mangled.env': `T=${cred.hash}\n`, // unquoted: compose drops the $-parts
    };
    for (const [f, text] of Object.entries(files)) await fs.writeFile(path.join(base, f), text);
    await fs.mkdir(path.join(base, 'dir.env')); // reading a folder fails: unreadable
    const target = (p: string) => envTargetLocation({ path: p, dialect: 'compose', keys: { T: 'token', URL: 'url' } }, base, URL);
    const vault = new Vault(path.join(base, 'vault'));
    await vault.write({ current: cred, previous: old });
    const server = await hostDoubleServer(comfy);
    try {
      const locations = [
        secretFileLocation(path.join(comfy, 'login', 'PASSWORD'), 'container'),
        ...['match.env', 'stale.env', 'other.env', 'nokey.env', 'mangled.env', 'dir.env', 'absent.env', 'badurl.env'].map(target),
      ];
      const audit = await auditCredential({ vault, locations, server });
      expect(audit.locations.map((l) => [l.name, l.status])).toEqual([
        ['container', 'match'],
        ['env:match.env', 'match'],
        ['env:stale.env', 'stale'],
        ['env:other.env', 'mismatch'],
        ['env:nokey.env', 'missing'],
        ['env:mangled.env', 'malformed'],
        ['env:dir.env', 'unreadable'],
        ['env:absent.env', 'missing'],
        ['env:badurl.env', 'mismatch'],
      ]);
      expect(audit.locations[8]?.detail).toBe(`URL is http://10.0.0.9:8188, the server is ${URL}`);
      expect(audit.locations[2]).toMatchObject({ fingerprint: fingerprint(old.hash) });
      expect(audit.live).toEqual({ acceptsCurrent: true, rejectsAnonymous: true, rejectsPrevious: true });
      expect(audit.consistent).toBe(false);
      expect(audit.distinctTokens).toEqual([
        { fingerprint: fingerprint(cred.hash), knownAs: 'current', locations: ['container', 'env:match.env', 'env:badurl.env'] },
        { fingerprint: fingerprint(old.hash), knownAs: 'previous', locations: ['env:stale.env'] },
        { fingerprint: fingerprint(stranger.hash), knownAs: 'unknown', locations: ['env:other.env'] },
      ]);
      const shown = JSON.stringify(audit);
      for (const secret of [cred.hash, cred.password!, old.hash, stranger.hash]) expect(shown).not.toContain(secret);
      expect(await findTokenByFingerprint({ vault, locations }, fingerprint(stranger.hash), 'comfy')).toMatchObject({ hash: stranger.hash });
      expect(await findTokenByFingerprint({ vault, locations }, fingerprint(old.hash), 'comfy')).toEqual(old);

      const consistent = await auditCredential({ vault, locations: locations.slice(0, 2), server });
      expect(consistent.consistent).toBe(true);
      // a server that takes the previous token too is not consistent
      await vault.write({ current: cred, previous: cred });
      expect((await auditCredential({ vault, locations: locations.slice(0, 2), server })).live.rejectsPrevious).toBe(false);
    } finally {
      await server.close();
    }
  });
});

describe('import from an env file', () => {
  it('adopts the hash as the file reader sees it; refuses a mangled or missing one, naming file and key', async () => {
    const vault = new Vault(path.join(dir, 'import-vault'));
    const file = path.join(dir, 'import.env');
    await fs.writeFile(file, `GOOD='${cred.hash}'\nBARE=${cred.hash}\nPW=not-a-hash\n`);
    const r = await importFromEnvFile(vault, file, 'GOOD', 'compose', 'comfy');
    expect(r).toEqual({ fingerprint: fingerprint(cred.hash), username: 'comfy', source: `${file}:GOOD` });
    expect((await vault.read())?.current).toMatchObject({ hash: cred.hash, username: 'comfy' });
    // unquoted, compose drops $12$... as variables: the import says so instead of adopting "$2b"
    await expect(importFromEnvFile(vault, file, 'BARE', 'compose', 'comfy')).rejects.toMatchObject({
      message: expect.stringContaining('import.env: BARE is not a bcrypt hash when read as compose'),
      fix: expect.stringContaining('single quotes'),
    });
    await expect(importFromEnvFile(vault, file, 'PW', 'dotenv', 'comfy')).rejects.toThrow(/PW is not a bcrypt hash/);
    await expect(importFromEnvFile(vault, file, 'NOPE', 'dotenv', 'comfy')).rejects.toThrow(/import\.env: no key NOPE/);
    // the same hash read by dotenv (which keeps the $) is fine; importing again keeps the vault's previous
    await vault.write({ current: old });
    await importFromEnvFile(vault, file, 'BARE', 'dotenv', 'comfy');
    expect(await vault.read()).toMatchObject({ current: { hash: cred.hash }, previous: old });
  });
});
