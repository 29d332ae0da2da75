/**
 * Issue 16 item 11: the sign-in link works once and briefly; sessions expire and can be ended
 * (logout, which also closes their event socket); the cookie is this server's; the launch
 * key stays the Bearer for scripts and mints new links.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PanelHandlers } from '../../app/contract/index.js';
import { AccessGuard } from '../../app/serve/guard.js';
import { LOGIN_URL_PATH, LOGOUT_PATH, startBrowserServer, type BrowserServer } from '../../app/serve/server.js';
import { EventBus } from '../../app/service/bus.js';

let dir: string;
const handlers = { appInfo: async () => ({ version: '9.9.9' }) } as unknown as PanelHandlers;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'renderer-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">app shell`);
});

const servers: BrowserServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(session?: Parameters<typeof startBrowserServer>[0]['session']) {
  const server = await startBrowserServer({ handlers, bus: new EventBus(), rendererDir: dir, port: 0, ...(session ? { session } : {}) });
  servers.push(server);
  const origin = `http://127.0.0.1:${server.port}`;
  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });
  const signIn = async (url = server.url) => {
    const res = await get(url);
    return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] };
  };
  const op = (cookie: string) => fetch(`${origin}/api/op/appInfo`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '{}' });
  return { server, origin, get, signIn, op };
}

describe('sign-in links', () => {
  it('work once: the same link opened again (history, favicon fetch, another browser) signs nobody in', async () => {
    const s = await serve();
    const first = await s.signIn();
    expect(first.status).toBe(303);
    expect((await s.op(first.cookie!)).status).toBe(200);
    const again = await s.signIn();
    expect(again).toEqual({ status: 401, cookie: undefined });
    expect(await (await s.get(s.server.url)).text()).toMatch(/not valid \(each works once/);
  });

  it('expire: an unused link past its lifetime is refused', async () => {
    const s = await serve({ ticketTtlMs: 200 });
    const link = s.server.newLoginUrl();
    await new Promise((r) => setTimeout(r, 400));
    expect((await s.signIn(link)).status).toBe(401);
    expect((await s.signIn(s.server.newLoginUrl())).status).toBe(303);
  });

  it('a script with the launch key mints a new one; a session cannot, and the key itself is no sign-in link', async () => {
    const s = await serve();
    const res = await fetch(`${s.origin}${LOGIN_URL_PATH}`, { method: 'POST', headers: { Authorization: `Bearer ${s.server.key}` } });
    expect(res.status).toBe(200);
    const { url } = (await res.json()) as { url: string };
    const signed = await s.signIn(url);
    expect(signed.status).toBe(303);
    expect((await fetch(`${s.origin}${LOGIN_URL_PATH}`, { method: 'POST', headers: { Cookie: signed.cookie! } })).status).toBe(403);
    expect((await s.signIn(`${s.origin}/?key=${s.server.key}`)).status).toBe(401);
    // Bearer still works for every call
    expect((await fetch(`${s.origin}/api/op/appInfo`, { method: 'POST', headers: { Authorization: `Bearer ${s.server.key}`, 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(200);
  });
});

describe('sessions', () => {
  it('logout ends the session, clears the cookie and closes its event socket', async () => {
    const s = await serve();
    const { cookie } = await s.signIn();
    const ws = new WebSocket(`ws://127.0.0.1:${s.server.port}/api/events`, { headers: { Cookie: cookie!, Origin: s.origin } });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    const out = await fetch(`${s.origin}${LOGOUT_PATH}`, { method: 'POST', headers: { Cookie: cookie!, Origin: s.origin } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^comfy_panel_${s.server.port}=; .*Max-Age=0`));
    expect(await closed).toBe(4401);
    expect((await s.op(cookie!)).status).toBe(401);
  });

  it('end after their idle time and after their maximum age, whatever the use', () => {
    let now = 0;
    const guard = new AccessGuard(() => 8390, { ticketTtlMs: 1000, idleMs: 100, maxAgeMs: 1000 }, () => now);
    const req = (cookie: string) => ({ headers: { cookie } }) as never;
    const cookieOf = () => guard.redeem(guard.mintTicket())!.split(';')[0]!;
    const idle = cookieOf();
    now = 150;
    expect(guard.authenticated(req(idle))).toBe(false);
    const busy = cookieOf();
    for (now = 150; now < 1150; now += 50) expect(guard.authenticated(req(busy)), `at ${now}`).toBe(now - 150 < 1000);
  });

  it('the cookie belongs to this server: another port signs nobody in with it', async () => {
    const a = await serve();
    const b = await serve();
    const { cookie } = await a.signIn();
    const renamed = cookie!.replace(`comfy_panel_${a.server.port}`, `comfy_panel_${b.server.port}`);
    expect((await b.op(cookie!)).status).toBe(401);
    expect((await b.op(renamed)).status).toBe(401);
  });
});
