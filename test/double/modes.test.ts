import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDoubleArgs } from '../comfy-double/cli-options.js';
import { loginCookie, sessionKeyPath, startDouble, wsHandshakeStatus, type DoubleMode, type Started } from './helpers.js';

const running: Started[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});
async function double(mode: DoubleMode): Promise<Started> {
  const s = await startDouble(mode);
  running.push(s);
  return s;
}
const get = (s: Started, path: string, headers: Record<string, string> = {}) => fetch(`${s.comfy.url}${path}`, { headers, redirect: 'manual' });
const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' as const });

describe('no PASSWORD (the node was installed, nobody set a password yet)', () => {
  it('[S5] [L30] an empty ?token= passes (200) while a plain anonymous request gets 401', async () => {
    const s = await double({ password: null });
    expect((await get(s, '/system_stats?token=')).status).toBe(200);
    expect((await get(s, '/system_stats')).status).toBe(401);
    expect((await get(s, '/system_stats', { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await wsHandshakeStatus(`${s.comfy.url}/ws?token=`)).toBe(101);
    // Every request that finds no token tries to load it again, and says so.
    expect(s.logs.filter((l) => l.startsWith('Please set up your password before use.')).length).toBeGreaterThan(2);
  });

  it('[S5] [L4] the first POST /login sets the password (writes login/PASSWORD): the first visitor owns the server', async () => {
    const s = await double({ password: null });
    const res = await fetch(`${s.comfy.url}/login`, form({ username: 'intruder', password: 'mine now' }));
    expect([res.status, res.headers.get('location')]).toEqual([302, '/']);
    const [hash, user] = readFileSync(join(s.root, 'login', 'PASSWORD'), 'utf8').split('\n');
    expect(user).toBe('intruder');
    expect(bcrypt.compareSync('mine now', hash!)).toBe(true);
    expect((await get(s, '/system_stats?token=')).status).toBe(401);
    expect((await get(s, '/system_stats', { Authorization: `Bearer ${hash}` })).status).toBe(200);
  });
});

describe('--login-node-version pre-token (ComfyUI-Login 7ef55034)', () => {
  it('[S6] reads <root>/PASSWORD, not login/PASSWORD: with the recipe\'s login/PASSWORD the first POST /login chooses the password', async () => {
    const s = await double({ loginNodeVersion: 'pre-token' });
    expect(existsSync(join(s.root, 'login', 'PASSWORD'))).toBe(true);
    const res = await fetch(`${s.comfy.url}/login`, form({ password: 'first visitor' }));
    expect([res.status, res.headers.get('location')]).toEqual([302, '/']);
    expect(bcrypt.compareSync('first visitor', readFileSync(join(s.root, 'PASSWORD'), 'utf8'))).toBe(true);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect((await get(s, '/system_stats', { Cookie: cookie })).status).toBe(200);
  });

  it('[S6] answers Bearer <hash> and ?token=<hash> with 302 to /login, anonymous API calls too; no token line in the log', async () => {
    const s = await double({ loginNodeVersion: 'pre-token', passwordAt: 'root' });
    for (const [path, headers] of [
      ['/system_stats', { Authorization: `Bearer ${s.hash}` }],
      [`/system_stats?token=${encodeURIComponent(s.hash)}`, {}],
      ['/system_stats', { Accept: 'application/json' }],
    ] as const) {
      const res = await get(s, path, headers);
      expect([res.status, res.headers.get('location')], path).toEqual([302, '/login']);
    }
    expect(s.logs.join('\n')).not.toMatch(/For direct API calls|Please set up your password/);
    expect(await wsHandshakeStatus(`${s.comfy.url}/ws?token=${encodeURIComponent(s.hash)}`)).toBe(302);
  });

  it('[S6] a login with the right password works, a wrong one is sent back with feedback; .ico is not on its allowlist', async () => {
    const s = await double({ loginNodeVersion: 'pre-token', passwordAt: 'root' });
    const wrong = await fetch(`${s.comfy.url}/login`, form({ password: 'nope' }));
    expect(wrong.headers.get('location')).toBe('/login?feedback=Wrong+password');
    expect(await loginCookie(s.comfy.url, s.password!)).toMatch(/^AIOHTTP_SESSION=/);
    expect((await get(s, '/favicon.ico')).status).toBe(302);
    expect((await get(s, '/x.js')).status).toBe(404);
    expect(await (await get(s, '/extensions', { Cookie: (await loginCookie(s.comfy.url, s.password!))! })).json()).toEqual(['/extensions/ComfyUI-Login/comfyui-password-logout.js']);
  });

  it('the current node moves a <root>/PASSWORD left by the pre-token layout into login/', async () => {
    const s = await double({ loginNodeVersion: 'pre-token', passwordAt: 'root' });
    await s.restart({ loginNodeVersion: 'current' });
    expect(existsSync(join(s.root, 'PASSWORD'))).toBe(false);
    expect(readFileSync(join(s.root, 'login', 'PASSWORD'), 'utf8')).toBe(s.hash);
    expect((await get(s, '/system_stats', { Authorization: `Bearer ${s.hash}` })).status).toBe(200);
  });
});

describe('--login-import-failed', () => {
  it('[S8] logs ComfyUI\'s IMPORT FAILED block for the node and serves without authentication', async () => {
    const s = await double({ loginImportFailed: true });
    const log = s.logs.join('\n');
    const dir = join(s.root, 'custom_nodes', 'ComfyUI-Login');
    expect(log).toContain(`Traceback (most recent call last):\n  File "${join(s.root, 'nodes.py')}", line 2133, in load_custom_node\n    module_spec.loader.exec_module(module)`);
    expect(log).toContain(`  File "${dir}/load_image_incognito.py", line 9, in <module>\n    from Crypto.Cipher import AES\nModuleNotFoundError: No module named 'Crypto'\n\nCannot import ${dir} module for custom nodes: No module named 'Crypto'`);
    expect(log).toContain(`   0.0 seconds (IMPORT FAILED): ${dir}`);
    expect(log).not.toContain('For direct API calls');
    expect((await get(s, '/system_stats')).status).toBe(200);
    expect((await get(s, '/login')).status).toBe(404);
    expect(await (await get(s, '/extensions')).json()).toEqual([]);
    // It failed before password.py ran: no session key was written.
    expect(existsSync(sessionKeyPath(s.root))).toBe(false);
  });
});

describe('--cors-origin ORIGIN (ComfyUI\'s --enable-cors-header ORIGIN)', () => {
  const ORIGIN = 'https://panel.example';

  it('[S7] a script without Origin sending a valid Bearer or ?token= gets 401; with the configured Origin it gets 200', async () => {
    const s = await double({ corsOrigin: ORIGIN });
    expect((await get(s, '/system_stats', s.auth)).status).toBe(401);
    expect((await get(s, `/system_stats?token=${encodeURIComponent(s.hash)}`)).status).toBe(401);
    expect((await get(s, '/system_stats', { ...s.auth, Origin: 'https://other.example' })).status).toBe(401);
    const ok = await get(s, '/system_stats', { ...s.auth, Origin: ORIGIN });
    expect(ok.status).toBe(200);
    expect(Object.fromEntries(['access-control-allow-origin', 'access-control-allow-credentials'].map((h) => [h, ok.headers.get(h)]))).toEqual({ 'access-control-allow-origin': ORIGIN, 'access-control-allow-credentials': 'true' });
    // Sessions are not affected, and a malformed header is not even looked at without the Origin.
    expect((await get(s, '/system_stats', { Cookie: (await loginCookie(s.comfy.url, s.password!))! })).status).toBe(200);
    expect((await get(s, '/system_stats', { Authorization: 'Bearer' })).status).toBe(401);
  });

  it('[S7] replaces the origin check: a foreign Origin is no longer 403; OPTIONS answers with CORS headers', async () => {
    const s = await double({ corsOrigin: ORIGIN });
    expect((await get(s, '/system_stats', { Origin: 'http://evil.example' })).status).toBe(401);
    const pre = await fetch(`${s.comfy.url}/prompt`, { method: 'OPTIONS' });
    expect([pre.status, pre.headers.get('access-control-allow-methods')]).toEqual([200, 'POST, GET, DELETE, PUT, OPTIONS, PATCH']);
    expect(((await (await get(s, '/system_stats', { ...s.auth, Origin: ORIGIN })).json()) as { system: { argv: string[] } }).system.argv.slice(-2)).toEqual(['--enable-cors-header', ORIGIN]);
  });

  it('[S7] with * (or no setting) tokens work as documented', async () => {
    const s = await double({ corsOrigin: '*' });
    expect((await get(s, '/system_stats', s.auth)).status).toBe(200);
    expect((await get(s, '/system_stats')).status).toBe(401);
  });
});

describe('guest mode (login/GUEST_MODE), as the current node has it', () => {
  it('lets a guest GET anything and POST /prompt, and answers {} to other requests', async () => {
    const s = await double({});
    writeFileSync(join(s.root, 'login', 'GUEST_MODE'), '');
    const res = await fetch(`${s.comfy.url}/login`, form({ guest_mode: '1', password: '' }));
    const guest = res.headers.get('set-cookie')!.split(';')[0]!;
    expect((await get(s, '/system_stats', { Cookie: guest })).status).toBe(200);
    expect(await (await get(s, '/guest_mode', { Cookie: guest })).json()).toEqual({ guestMode: true });
    const other = await fetch(`${s.comfy.url}/api/queue`, { method: 'POST', headers: { Cookie: guest }, body: '{}' });
    expect([other.status, await other.text()]).toEqual([200, '{}']);
  });
});

describe('the modes on the command line and in the environment', () => {
  it('parses the flags, ComfyUI\'s own --enable-cors-header spelling, and the COMFY_DOUBLE_* variables', () => {
    expect(parseDoubleArgs(['--dir', '/r', '--login-node-version', 'pre-token', '--login-import-failed', '--cors-origin', 'http://a'])).toMatchObject({ loginNodeVersion: 'pre-token', loginImportFailed: true, corsOrigin: 'http://a' });
    expect(parseDoubleArgs(['--dir', '/r', '--enable-cors-header']).corsOrigin).toBe('*');
    expect(parseDoubleArgs(['--dir', '/r', '--enable-cors-header', 'http://b']).corsOrigin).toBe('http://b');
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { COMFY_DOUBLE_LOGIN_NODE_VERSION: 'pre-token', COMFY_DOUBLE_LOGIN_IMPORT_FAILED: '1', COMFY_DOUBLE_CORS_ORIGIN: 'http://c' });
      expect(parseDoubleArgs(['--dir', '/r'])).toMatchObject({ loginNodeVersion: 'pre-token', loginImportFailed: true, corsOrigin: 'http://c' });
      process.env.COMFY_DOUBLE_LOGIN_IMPORT_FAILED = '0';
      expect(parseDoubleArgs(['--dir', '/r']).loginImportFailed).toBeUndefined();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(() => parseDoubleArgs(['--dir', '/r', '--login-node-version', 'ancient'])).toThrow(/expected one of: current, pre-token/);
  });
});
