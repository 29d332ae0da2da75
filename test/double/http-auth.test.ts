import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithPassword, wsHandshakeStatus, type Started } from './helpers.js';

// Every row of the reference's HTTP table, status and body.
const UNAUTHORIZED = '{"error": "Authentication required."}';
const CRASH = '500 Internal Server Error\n\nServer got itself in trouble';

let s: Started;
const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${s.comfy.url}${path}`, { method, headers, redirect: 'manual' });

beforeAll(async () => {
  s = await startWithPassword();
});
afterAll(async () => {
  await s.stop();
});

describe('ComfyUI-Login token checks', () => {
  it('[L6] answers 401 with the JSON body to an anonymous API call', async () => {
    const res = await get('/system_stats');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe(UNAUTHORIZED);
  });

  it('[L7] redirects an anonymous browser (Accept: text/html) to /login', async () => {
    const res = await get('/system_stats', { Accept: 'text/html,application/xhtml+xml' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('[L2] [L8] takes the bcrypt hash itself as a Bearer token', async () => {
    const res = await get('/system_stats', s.auth);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { system: { comfyui_version: string } }).system.comfyui_version).toBe('0.3.64');
  });

  it('[L9] takes the hash as ?token=, raw or percent-encoded', async () => {
    expect((await get(`/system_stats?token=${s.hash}`)).status).toBe(200);
    expect((await get(`/system_stats?token=${encodeURIComponent(s.hash)}`)).status).toBe(200);
  });

  it.each([
    ['Bearer wrong', { Authorization: 'Bearer wrong' }, ''],
    ['?token=wrong', {}, '?token=wrong'],
    ['lowercase bearer', { Authorization: 'bearer HASH' }, ''],
    ['Basic auth', { Authorization: `Basic ${Buffer.from('admin:correct horse').toString('base64')}` }, ''],
    ['the raw password as token', { Authorization: 'Bearer correct-horse' }, ''],
  ])('[L10] [L2] rejects %s with 401', async (_name, headers, query) => {
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('HASH', s.hash)]));
    const res = await get(`/system_stats${query}`, h);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe(UNAUTHORIZED);
  });

  it.each([
    ['Bearer without a token', 'Bearer'],
    ['one word', 'HASH'],
    ['three words', 'Bearer HASH extra'],
  ])('[L11] crashes with a text/plain 500 on a header of %s', async (_name, header) => {
    const res = await get('/system_stats', { Authorization: header.replace('HASH', s.hash) });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(CRASH);
  });

  it('[L12] lets a wrong Bearer pass when ?token= is valid', async () => {
    expect((await get(`/system_stats?token=${s.hash}`, { Authorization: 'Bearer wrong' })).status).toBe(200);
  });

  it('[L13] answers 403 with an empty body to a foreign Origin even with a valid token', async () => {
    const res = await get('/system_stats', { ...s.auth, Origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('');
    // ComfyUI's check runs before the login node: no token needed to be refused.
    expect((await get('/system_stats', { Origin: 'http://evil.example' })).status).toBe(403);
  });

  it('accepts a same-origin Origin', async () => {
    expect((await get('/system_stats', { ...s.auth, Origin: s.comfy.url })).status).toBe(200);
  });

  it('serves every API route under /api as well', async () => {
    expect((await get('/api/system_stats')).status).toBe(401);
    expect(await (await get('/api/queue', s.auth)).text()).toBe('{"queue_running": [], "queue_pending": []}');
  });
});

describe('paths that pass without auth', () => {
  it('[L14] serves the /login page as HTML', async () => {
    const res = await get('/login');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<form action="/login" method="post"');
    expect(html).toContain('name="password"');
  });

  it('[L14] serves *.js, *.css and *.ico without a token (missing ones are 404, not 401)', async () => {
    for (const path of ['/assets/index.js', '/assets/index.css']) {
      expect((await get(path)).status, path).toBe(200);
    }
    // No front end favicon: 404, and not 401, since .ico skips the login.
    expect((await get('/favicon.ico')).status).toBe(404);
    const missing = await get('/extensions/nothing/here.js');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('404: Not Found');
  });

  it('[L15] answers OPTIONS /prompt with 200 without auth', async () => {
    const res = await get('/prompt', {}, 'OPTIONS');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('keeps the GUI itself behind the login', async () => {
    expect((await get('/', { Accept: 'text/html' })).headers.get('location')).toBe('/login');
    const gui = await get('/', s.auth);
    expect(gui.status).toBe(200);
    expect(await gui.text()).toContain('<title>ComfyUI</title>');
  });
});

describe('WebSocket handshake', () => {
  it('[L30] needs the same credentials as HTTP', async () => {
    const ws = `${s.comfy.url}/ws?clientId=auth-probe`;
    expect(await wsHandshakeStatus(ws)).toBe(401);
    expect(await wsHandshakeStatus(`${ws}&token=wrong`)).toBe(401);
    expect(await wsHandshakeStatus(`${ws}&token=${encodeURIComponent(s.hash)}`)).toBe(101);
    expect(await wsHandshakeStatus(ws, s.auth)).toBe(101);
  });
});

describe('without the login node', () => {
  it('serves everything without auth and has no /login', async () => {
    const open = await startWithPassword({ login: false });
    try {
      expect((await fetch(`${open.comfy.url}/system_stats`)).status).toBe(200);
      expect((await fetch(`${open.comfy.url}/login`)).status).toBe(404);
      expect(await wsHandshakeStatus(`${open.comfy.url}/ws`)).toBe(101);
      expect(open.logs.join('\n')).not.toContain('For direct API calls');
    } finally {
      await open.stop();
    }
  });
});
