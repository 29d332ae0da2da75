import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComfyDouble } from '../comfy-double/server.js';
import { startWithPassword, tempRoot, writePassword, type Started } from './helpers.js';

const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' as const });
function tempLogin(root: string): string {
  mkdirSync(join(root, 'login'), { recursive: true });
  return join(root, 'login');
}
const sessionCookie = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';

describe('POST /login and sessions', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startWithPassword();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('[L16] logs in with the right password whatever the username, setting an HttpOnly AIOHTTP_SESSION cookie', async () => {
    const res = await fetch(`${s.comfy.url}/login`, form({ username: 'not-the-user', password: 'correct horse' }));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^AIOHTTP_SESSION=("gAAAAA[\w-]+={1,2}"|gAAAAA[\w-]+); HttpOnly; Path=\//);
    expect((await fetch(`${s.comfy.url}/system_stats`, { headers: { Cookie: sessionCookie(res) } })).status).toBe(200);
    // Logged in, /login itself sends the browser home.
    const again = await fetch(`${s.comfy.url}/login`, { headers: { Cookie: sessionCookie(res) }, redirect: 'manual' });
    expect(again.headers.get('location')).toBe('/');
  });

  it('takes multipart form bodies like aiohttp request.post()', async () => {
    const body = new FormData();
    body.set('username', 'x');
    body.set('password', 'correct horse');
    const res = await fetch(`${s.comfy.url}/login`, { method: 'POST', body, redirect: 'manual' });
    expect(res.headers.get('location')).toBe('/');
  });

  it('[L17] sends a wrong password back to /login?wrong_password=1 without a session', async () => {
    const res = await fetch(`${s.comfy.url}/login`, form({ username: 'admin', password: 'nope' }));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?wrong_password=1');
    expect(res.headers.get('set-cookie')).toBeNull();
    const page = await (await fetch(`${s.comfy.url}/login?wrong_password=1`)).text();
    expect(page).toContain('Wrong Password.');
  });

  it('[L18] answers 500 to a missing password field or a JSON body', async () => {
    const missing = await fetch(`${s.comfy.url}/login`, form({ username: 'admin' }));
    expect(missing.status).toBe(500);
    expect(await missing.text()).toBe('500 Internal Server Error\n\nServer got itself in trouble');
    const jsonBody = await fetch(`${s.comfy.url}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: 'correct horse' }) });
    expect(jsonBody.status).toBe(500);
  });

  it('[L19] GET /logout clears the session and redirects to /login', async () => {
    const login = await fetch(`${s.comfy.url}/login`, form({ username: 'a', password: 'correct horse' }));
    const out = await fetch(`${s.comfy.url}/logout`, { headers: { Cookie: sessionCookie(login) }, redirect: 'manual' });
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toBe('/login');
    const cleared = sessionCookie(out);
    expect(cleared).toMatch(/^AIOHTTP_SESSION=/);
    expect((await fetch(`${s.comfy.url}/system_stats`, { headers: { Cookie: cleared } })).status).toBe(401);
  });

  it('ignores a forged or garbled session cookie', async () => {
    const res = await fetch(`${s.comfy.url}/system_stats`, { headers: { Cookie: 'AIOHTTP_SESSION="eyJsb2dnZWRfaW4iOnRydWV9"' } });
    expect(res.status).toBe(401);
  });

  it('[L3] logs the token line and the custom-node import list at start', () => {
    const text = s.logs.join('\n');
    expect(text).toContain(`For direct API calls, use token=${s.hash}`);
    expect(text).toContain(`\nImport times for custom nodes:\n   0.0 seconds: ${join(s.root, 'custom_nodes', 'websocket_image_save.py')}\n   0.0 seconds: ${join(s.root, 'custom_nodes', 'ComfyUI-Login')}\n\n`);
    expect(text).toMatch(/To see the GUI go to: http:\/\/127\.0\.0\.1:\d+/);
    expect(text).toMatch(/127\.0\.0\.1 \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "POST \/login HTTP\/1\.1" 302 \d+ "-" "/);
  });
});

describe('PASSWORD lifecycle', () => {
  it('[L3] reads PASSWORD once: a new hash needs a restart', async () => {
    const s = await startWithPassword();
    try {
      const newHash = writePassword(s.root, 'rotated password');
      const probe = (hash: string) => fetch(`${s.comfy.url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } }).then((r) => r.status);
      expect(await probe(newHash)).toBe(401);
      expect(await probe(s.hash)).toBe(200);
      await s.comfy.close();
      const restarted = await startComfyDouble({ dir: s.root, port: s.comfy.port });
      try {
        expect(await probe(newHash)).toBe(200);
        expect(await probe(s.hash)).toBe(401);
      } finally {
        await restarted.close();
      }
    } finally {
      rmSync(s.root, { recursive: true, force: true });
    }
  });

  it('[L1] [L4] lets the first login set a missing PASSWORD (bcrypt cost 12, username on line 2, no trailing newline)', async () => {
    const root = tempRoot();
    const logs: string[] = [];
    const comfy = await startComfyDouble({ dir: root, log: (l) => logs.push(l) });
    try {
      expect(logs).toContain('Please set up your password before use. The token will be a hashed string derived from your password.');
      expect(await (await fetch(`${comfy.url}/login`)).text()).toContain('For your first login, please enter a new username and password');
      const res = await fetch(`${comfy.url}/login`, form({ username: 'operator', password: 'first password' }));
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/');
      const [hash, username, ...rest] = readFileSync(join(root, 'login', 'PASSWORD'), 'utf8').split('\n');
      expect(rest).toEqual([]);
      expect(username).toBe('operator');
      expect(hash).toMatch(/^\$2[ab]\$12\$[./A-Za-z0-9]{53}$/);
      expect(bcrypt.compareSync('first password', hash!)).toBe(true);
      // The token was empty at start, so the node loads the new one on the next request.
      expect((await fetch(`${comfy.url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } })).status).toBe(200);
      expect(logs).toContain(`For direct API calls, use token=${hash}`);
    } finally {
      await comfy.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('installs the login node folder with __init__.py, and --no-login removes it', async () => {
    const root = tempRoot();
    try {
      const withLogin = await startComfyDouble({ dir: root });
      await withLogin.close();
      expect(existsSync(join(root, 'custom_nodes', 'ComfyUI-Login', '__init__.py'))).toBe(true);
      expect(existsSync(join(root, 'custom_nodes', 'ComfyUI-Login', '.secret-key.txt'))).toBe(true);
      const without = await startComfyDouble({ dir: root, login: false });
      await without.close();
      expect(existsSync(join(root, 'custom_nodes', 'ComfyUI-Login'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('[L5] keeps sessions across a restart (the cookie key lives in .secret-key.txt)', async () => {
    const s = await startWithPassword();
    try {
      const login = await fetch(`${s.comfy.url}/login`, form({ username: 'a', password: 'correct horse' }));
      await s.comfy.close();
      const again = await startComfyDouble({ dir: s.root });
      try {
        expect((await fetch(`${again.url}/system_stats`, { headers: { Cookie: sessionCookie(login) } })).status).toBe(200);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(s.root, { recursive: true, force: true });
    }
  });

  it('crashes (500) on a login against a PASSWORD whose line 1 is not a bcrypt hash, yet takes that line as token', async () => {
    const root = tempRoot();
    writeFileSync(join(tempLogin(root), 'PASSWORD'), 'plain-text-password\nadmin');
    const comfy = await startComfyDouble({ dir: root });
    try {
      expect((await fetch(`${comfy.url}/login`, form({ username: 'a', password: 'plain-text-password' }))).status).toBe(500);
      expect((await fetch(`${comfy.url}/system_stats`, { headers: { Authorization: 'Bearer plain-text-password' } })).status).toBe(200);
    } finally {
      await comfy.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
