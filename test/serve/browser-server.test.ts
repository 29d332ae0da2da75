import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PanelHandlers } from '../../app/contract/index.js';
import { startBrowserServer, type BrowserServer } from '../../app/serve/server.js';
import { EventBus } from '../../app/service/bus.js';

/** Raw HTTP so Host and Origin can be forged as an attacker's page or a rebinding DNS name would. */
function request(port: number, opts: { path?: string; method?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

let server: BrowserServer;
let cookie: string;
const bus = new EventBus();
const calls: unknown[] = [];
const handlers = {
  appInfo: async (input: unknown) => {
    calls.push(input);
    return { version: '9.9.9' };
  },
} as unknown as PanelHandlers;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renderer-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha384-x'">app shell`);
  await writeFile(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(os.tmpdir(), 'outside-secret.txt'), 'do not serve');
  server = await startBrowserServer({ handlers, bus, rendererDir: dir, port: 0 });
  const login = await request(server.port, { path: new URL(server.url).pathname + new URL(server.url).search, headers: { Host: `127.0.0.1:${server.port}` } });
  cookie = String(login.headers['set-cookie']).split(';')[0]!;
});
afterAll(() => server.close());

const host = () => ({ Host: `127.0.0.1:${server.port}` });

describe('browser mode access control', () => {
  it('binds to 127.0.0.1 only and prints a sign-in link carrying a one-time ticket, never the launch key', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?key=[\\w-]{40,}$`));
    expect(server.url).not.toContain(server.key);
    expect(server.key.length).toBeGreaterThanOrEqual(40);
  });

  it('trades a ticket for an HttpOnly SameSite=Strict cookie named after the port and redirects away from it', async () => {
    const link = new URL(server.newLoginUrl());
    const res = await request(server.port, { path: link.pathname + link.search, headers: host() });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(String(res.headers['set-cookie'])).toMatch(new RegExp(`^comfy_panel_${server.port}=[\\w-]+; HttpOnly; SameSite=Strict; Path=/; Max-Age=\\d+$`));
  });

  it('refuses every request without the cookie or key, static files included', async () => {
    for (const p of ['/', '/assets/app.js', '/index.html']) expect((await request(server.port, { path: p, headers: host() })).status).toBe(401);
    const api = await request(server.port, { path: '/api/op/appInfo', method: 'POST', headers: { ...host(), 'Content-Type': 'application/json' }, body: '{}' });
    expect(api.status).toBe(401);
    expect((await request(server.port, { path: '/?key=wrong', headers: host() })).status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin even with a valid cookie', async () => {
    const rebinding = await request(server.port, { headers: { Host: `evil.example:${server.port}`, Cookie: cookie } });
    expect(rebinding.status).toBe(403);
    const otherPort = await request(server.port, { headers: { Host: `127.0.0.1:1`, Cookie: cookie } });
    expect(otherPort.status).toBe(403);
    const csrf = await request(server.port, {
      path: '/api/op/appInfo',
      method: 'POST',
      headers: { ...host(), Cookie: cookie, Origin: 'https://evil.example', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(csrf.status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it('serves the app with the CSP from the built page and security headers', async () => {
    const res = await request(server.port, { headers: { ...host(), Cookie: cookie } });
    expect(res.status).toBe(200);
    expect(res.body).toContain('app shell');
    expect(res.headers['content-security-policy']).toBe(`default-src 'none'; script-src 'sha384-x'; frame-ancestors 'none'`);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../outside-secret.txt', '/%2e%2e/outside-secret.txt', '/assets/..%2f..%2foutside-secret.txt']) {
      const res = await request(server.port, { path: p, headers: { ...host(), Cookie: cookie } });
      expect(res.body, p).not.toContain('do not serve');
    }
  });

  it('validates input before the handler runs and reports unknown operations', async () => {
    const post = (name: string, body: string, type = 'application/json') =>
      request(server.port, { path: `/api/op/${name}`, method: 'POST', headers: { ...host(), Cookie: cookie, 'Content-Type': type }, body });
    const bad = await post('appInfo', '{"extra":1}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect((await post('appInfo', 'not json')).status).toBe(400);
    expect((await post('noSuchOp', '{}')).status).toBe(404);
    expect((await post('appInfo', '{}', 'text/plain')).status).toBe(415);
    expect(calls).toHaveLength(0);
    const good = await post('appInfo', '{}');
    expect(JSON.parse(good.body)).toEqual({ ok: true, result: { version: '9.9.9' } });
  });

  it('pushes events over the WebSocket only to an authenticated, same-origin socket', async () => {
    const url = `ws://127.0.0.1:${server.port}/api/events`;
    const refused = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await refused({})).toBe(401);
    expect(await refused({ Cookie: cookie, Origin: 'https://evil.example' })).toBe(403);
    const ws = new WebSocket(url, { headers: { Cookie: cookie, Origin: `http://127.0.0.1:${server.port}` } });
    await new Promise((r) => ws.once('open', r));
    const got = new Promise<string>((r) => ws.once('message', (m: Buffer) => r(m.toString())));
    bus.emit('log', { seq: 1, stream: 'stdout', time: '2026-01-01T00:00:00Z', text: 'hello' });
    expect(JSON.parse(await got)).toEqual({ event: 'log', payload: { seq: 1, stream: 'stdout', time: '2026-01-01T00:00:00Z', text: 'hello' } });
    ws.close();
  });
});
