import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Fernet } from '../comfy-double/fernet.js';
import { loginCookie, SMOKE_GRAPH, sessionKeyPath, startDouble, writePassword, type Started } from './helpers.js';

const running: Started[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});
async function double(mode: Parameters<typeof startDouble>[0] = {}): Promise<Started> {
  const s = await startDouble(mode);
  running.push(s);
  return s;
}
const status = (s: Started, headers: Record<string, string>) => fetch(`${s.comfy.url}/system_stats`, { headers }).then((r) => r.status);

describe('Fernet, as aiohttp_session encrypts AIOHTTP_SESSION', () => {
  it('reproduces the Fernet spec test vector and rejects tampered tokens', () => {
    const f = new Fernet('cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=');
    const iv = Buffer.from([...Array(16).keys()]);
    const token = f.encrypt(Buffer.from('hello'), Date.parse('1985-10-26T01:20:00-07:00') / 1000, iv);
    expect(token).toBe('gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==');
    expect(f.decrypt(token)?.toString()).toBe('hello');
    expect(f.decrypt(token.replace('gAAAAAAd', 'gAAAAAAe'))).toBeUndefined();
    expect(() => new Fernet('short')).toThrow('Fernet key must be 32 url-safe base64-encoded bytes.');
  });
});

describe('sessions keyed by custom_nodes/ComfyUI-Login/.secret-key.txt', () => {
  it('[L5] the cookie is the session encrypted with the key file\'s key: {"created", "session": {logged_in, username}}', async () => {
    const s = await double();
    const cookie = (await loginCookie(s.comfy.url, 'correct horse', 'someone-else'))!;
    const [key] = readFileSync(sessionKeyPath(s.root), 'utf8').split(',');
    const token = cookie.slice('AIOHTTP_SESSION='.length).replace(/"/g, '');
    const plain = new Fernet(key!).decrypt(token)!.toString();
    // The username comes from PASSWORD line 2, whatever the form said.
    expect(plain).toMatch(/^\{"created": \d+, "session": \{"logged_in": true, "username": "admin"\}\}$/);
  });

  it('[S1] a session survives a PASSWORD change and restart: old Bearer 401, new Bearer 200, old cookie 200', async () => {
    const s = await double();
    const oldHash = s.hash;
    const cookie = (await loginCookie(s.comfy.url, 'correct horse'))!;
    const newHash = writePassword(s.root, 'rotated password');
    await s.restart();
    expect(await status(s, { Authorization: `Bearer ${oldHash}` })).toBe(401);
    expect(await status(s, { Authorization: `Bearer ${newHash}` })).toBe(200);
    expect(await status(s, { Cookie: cookie })).toBe(200);
  });

  it('[S2] replacing the key file (delete it, restart: the node writes a fresh one) ends every session', async () => {
    const s = await double();
    const cookie = (await loginCookie(s.comfy.url, 'correct horse'))!;
    const before = readFileSync(sessionKeyPath(s.root), 'utf8');
    rmSync(sessionKeyPath(s.root));
    await s.restart();
    expect(readFileSync(sessionKeyPath(s.root), 'utf8')).not.toBe(before);
    expect(await status(s, { Cookie: cookie })).toBe(401);
    expect(s.logs).toContain('Cannot decrypt cookie value, create a new fresh session');
    expect(await status(s, { Cookie: (await loginCookie(s.comfy.url, 'correct horse'))! })).toBe(200);
  });

  it('[S2] a key older than 30 days is replaced at start, ending sessions; a younger one is kept', async () => {
    const s = await double();
    const cookie = (await loginCookie(s.comfy.url, 'correct horse'))!;
    const [key] = readFileSync(sessionKeyPath(s.root), 'utf8').split(',');
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, -1);
    writeFileSync(sessionKeyPath(s.root), `${key},${local(new Date(Date.now() - 29 * 86400_000))}`);
    await s.restart();
    expect(await status(s, { Cookie: cookie })).toBe(200);
    writeFileSync(sessionKeyPath(s.root), `${key},${local(new Date(Date.now() - 31 * 86400_000))}`);
    await s.restart();
    expect(readFileSync(sessionKeyPath(s.root), 'utf8').split(',')[0]).not.toBe(key);
    expect(await status(s, { Cookie: cookie })).toBe(401);
  });

  it('[L19] logout clears the session: the cookie it sets is anonymous, the old one is reset', async () => {
    const s = await double();
    const cookie = (await loginCookie(s.comfy.url, 'correct horse'))!;
    const out = await fetch(`${s.comfy.url}/logout`, { headers: { Cookie: cookie }, redirect: 'manual' });
    expect([out.status, out.headers.get('location')]).toEqual([302, '/login']);
    const cleared = out.headers.get('set-cookie')!.split(';')[0]!;
    expect(await status(s, { Cookie: cleared })).toBe(401);
    // Anonymous, /logout itself needs a login like any path.
    expect((await fetch(`${s.comfy.url}/logout`)).status).toBe(401);
  });

  it('[S9] the key file is created with the process umask: 0644 under 022, 0600 under 077 (and output PNGs 0600 too)', async () => {
    const old = process.umask(0o022);
    try {
      const a = await double();
      expect(statSync(sessionKeyPath(a.root)).mode & 0o777).toBe(0o644);
      process.umask(0o077);
      const b = await double();
      expect(statSync(sessionKeyPath(b.root)).mode & 0o777).toBe(0o600);
      const res = await fetch(`${b.comfy.url}/prompt`, { method: 'POST', headers: b.auth, body: JSON.stringify({ prompt: SMOKE_GRAPH }) });
      expect(res.status).toBe(200);
      const png = join(b.root, 'output', 'smoke_00001_.png');
      for (let i = 0; i < 100 && !existsSync(png); i++) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(png).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('a key file that does not parse makes the node fail to import: IMPORT FAILED, and ComfyUI serves without auth', async () => {
    const s = await double();
    writeFileSync(sessionKeyPath(s.root), 'no-comma-here');
    await s.restart();
    expect(s.logs).toContain('ValueError: not enough values to unpack (expected 2, got 1)');
    expect(s.logs).toContain(`   0.0 seconds (IMPORT FAILED): ${join(s.root, 'custom_nodes', 'ComfyUI-Login')}`);
    expect(await status(s, {})).toBe(200);
  });
});
