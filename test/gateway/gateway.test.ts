/**
 * The gateway container in front of the ComfyUI double container, on a private network:
 * scopes, credentials, sessions, revocation, expiry, rotation overlap, limits, leaks.
 */
import type Docker from 'dockerode';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintLoginLink, revokeKey, rotateKey, usage, type CreatedKey } from '../../app/gateway/index.js';
import { SMOKE_GRAPH } from '../comfy-double/graphs.js';
import { requireDocker } from '../support/docker.js';
import { startRig, waitFor, type Rig } from './rig.js';

const d = await requireDocker();

/** Everything a client was sent, to scan for secrets at the end. */
const seen: string[] = [];

async function call(url: string, init: RequestInit & { key?: string } = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const { key, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set('Authorization', `Bearer ${key}`);
  const res = await fetch(url, { ...rest, headers, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  const body = await res.text();
  seen.push(body, JSON.stringify([...res.headers]));
  return { status: res.status, body, headers: res.headers };
}

function openWs(url: string, protocols?: { headers?: Record<string, string> }): Promise<{ ws: WebSocket; messages: { type: string; data: Record<string, unknown> }[]; closed: Promise<[number, string]> }> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { headers: protocols?.headers });
    const messages: { type: string; data: Record<string, unknown> }[] = [];
    const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, reason.toString()])));
    ws.on('message', (m: Buffer, binary) => {
      if (binary) return;
      seen.push(m.toString());
      messages.push(JSON.parse(m.toString()) as (typeof messages)[number]);
    });
    ws.once('open', () => ok({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => fail(new Error(`handshake answered ${res.statusCode}`)));
    ws.once('error', fail);
  });
}

// Generous: these wait for containers on a shared, loaded 2-core machine (conditions, never fixed sleeps).
describe.skipIf(!d.ok)('the gateway container in front of the ComfyUI double', { timeout: 180_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  let rig: Rig;
  let gw: string;
  let read: CreatedKey;
  let gen: CreatedKey;
  let admin: CreatedKey;
  let control: CreatedKey;
  const keys: string[] = [];

  beforeAll(async () => {
    rig = await startRig(docker);
    gw = await rig.url();
    read = await rig.key('reader', 'read');
    gen = await rig.key('generator', 'generate');
    admin = await rig.key('operator', 'admin');
    control = await rig.key('panel', 'control');
    keys.push(read.key, gen.key, admin.key, control.key);
    // Keys written by the panel are in force within a second; wait for the reload, not a fixed time.
    await waitFor('the new keys', async () => ((await call(`${gw}/system_stats`, { key: control.key })).status === 403 ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    if (process.env.GW_DUMP && rig) process.stderr.write(`--- gateway log ---\n${await rig.logs(rig.gateway)}\n`);
    await rig?.close();
  });

  it('refuses every request without a key, the suffix allowlist included, and never forwards it', async () => {
    for (const path of ['/system_stats', '/api/userdata/anything.js', '/extensions/x.css', '/favicon.ico', '/assets/index.js', '/history', '/ws']) {
      expect((await call(`${gw}${path}`)).status, path).toBe(401);
    }
    const write = await call(`${gw}/api/userdata/anything.js`, { method: 'POST', body: 'x' });
    expect(write.status).toBe(401);
    // ComfyUI-Login's own form is never reachable through the gateway.
    const login = await call(`${gw}/login`, { method: 'POST', body: 'password=x' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/_gateway/login');
    // A browser is sent to the gateway's sign-in page.
    const page = await call(`${gw}/`, { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/_gateway/login?next=%2F');
    const comfyLog = await rig.logs(rig.comfy);
    expect(comfyLog).not.toContain('userdata/anything.js');
    expect(comfyLog).not.toContain('POST /login');
  });

  it('does not accept the ComfyUI-Login hash as a client credential', async () => {
    expect((await call(`${gw}/system_stats`, { key: rig.hash })).status).toBe(401);
    expect((await call(`${gw}/system_stats?token=${encodeURIComponent(rig.hash)}`)).status).toBe(401);
  });

  it('with a key and a ComfyUI token sent at once, only the key counts and neither is forwarded', async () => {
    const both = await call(`${gw}/system_stats?token=${encodeURIComponent(rig.hash)}&x=1`, { key: read.key });
    expect(both.status).toBe(200);
    const swapped = await call(`${gw}/system_stats?token=${read.key}`, { key: rig.hash });
    expect(swapped.status).toBe(200);
    const revokedWithHash = await call(`${gw}/system_stats?token=${encodeURIComponent(rig.hash)}`, { key: `cpk_${'A'.repeat(43)}` });
    expect(revokedWithHash.status).toBe(401);
    const comfyLog = await rig.logs(rig.comfy);
    expect(comfyLog).toContain('"GET /system_stats?x=1 HTTP/1.1" 200');
    for (const k of keys) expect(comfyLog).not.toContain(k);
    // The token parameter is gone before ComfyUI sees the request.
    expect(comfyLog.split('\n').filter((l) => l.includes('GET /system_stats') && l.includes('token='))).toEqual([]);
  });

  it('enforces every scope boundary of the route table', async () => {
    const prompt = JSON.stringify({ prompt: SMOKE_GRAPH });
    const cases: { method: string; path: string; body?: string; allowed: Record<'read' | 'generate' | 'admin' | 'control', boolean> }[] = [
      { method: 'GET', path: '/system_stats', allowed: { read: true, generate: true, admin: true, control: false } },
      { method: 'GET', path: '/api/queue', allowed: { read: true, generate: true, admin: true, control: false } },
      { method: 'GET', path: '/history', allowed: { read: true, generate: true, admin: true, control: false } },
      { method: 'GET', path: '/prompt', allowed: { read: true, generate: true, admin: true, control: false } },
      { method: 'POST', path: '/prompt', body: prompt, allowed: { read: false, generate: true, admin: true, control: false } },
      { method: 'GET', path: '/object_info/EmptyImage', allowed: { read: false, generate: true, admin: true, control: false } },
      { method: 'GET', path: '/view?filename=none.png&type=output', allowed: { read: false, generate: true, admin: true, control: false } },
      { method: 'POST', path: '/upload/image', body: 'x', allowed: { read: false, generate: true, admin: true, control: false } },
      { method: 'GET', path: '/api/userdata/anything.js', allowed: { read: false, generate: true, admin: true, control: false } },
      { method: 'POST', path: '/api/userdata/workflows%2Fmine.json', body: '{}', allowed: { read: false, generate: true, admin: true, control: false } },
      { method: 'POST', path: '/api/userdata/anything.js', body: 'x', allowed: { read: false, generate: false, admin: true, control: false } },
      { method: 'POST', path: '/api/userdata/user.css', body: 'x', allowed: { read: false, generate: false, admin: true, control: false } },
      { method: 'POST', path: '/free', body: '{"free_memory": true}', allowed: { read: false, generate: false, admin: true, control: false } },
      { method: 'POST', path: '/history', body: '{"clear": true}', allowed: { read: false, generate: false, admin: true, control: false } },
      { method: 'POST', path: '/queue', body: '{"clear": true}', allowed: { read: false, generate: false, admin: true, control: false } },
      { method: 'GET', path: '/internal/logs', allowed: { read: false, generate: false, admin: true, control: false } },
      { method: 'GET', path: '/manager/reboot', allowed: { read: false, generate: false, admin: true, control: false } },
    ];
    const byScope = { read, generate: gen, admin, control };
    for (const c of cases) {
      for (const [scope, key] of Object.entries(byScope) as [keyof typeof byScope, CreatedKey][]) {
        const r = await call(`${gw}${c.path}`, { method: c.method, key: key.key, body: c.body });
        const what = `${scope} ${c.method} ${c.path} -> ${r.status}`;
        // Allowed: forwarded to ComfyUI, whatever it answers; refused: the gateway's 403.
        if (c.allowed[scope]) expect(r.status, what).not.toBe(403);
        else expect(r.status, what).toBe(403);
        expect(r.status, what).not.toBe(401);
      }
    }
    // The WebSocket needs generate.
    await expect(openWs(`${gw.replace('http', 'ws')}/ws?token=${read.key}`)).rejects.toThrow('403');
    const ws = await openWs(`${gw.replace('http', 'ws')}/ws?clientId=scopes&token=${gen.key}`);
    ws.ws.close();
  });

  it('relays a WebSocket in order under the client id the client chose, and closes it within a second of a revocation', async () => {
    const victim = await rig.key('revoked-mid-socket', 'generate');
    await waitFor('the key', async () => ((await call(`${gw}/system_stats`, { key: victim.key })).status === 200 ? true : undefined));
    const ws = await openWs(`${gw.replace('http', 'ws')}/ws?clientId=mine&token=${victim.key}`);
    await waitFor('the first frame', async () => (ws.messages.length ? true : undefined));
    expect(ws.messages[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'mine' } });
    const sent = await call(`${gw}/prompt`, { method: 'POST', key: victim.key, body: JSON.stringify({ prompt: { ...SMOKE_GRAPH, '1': { ...SMOKE_GRAPH['1'], inputs: { ...SMOKE_GRAPH['1'].inputs, color: 7 } } }, client_id: 'mine' }) });
    expect(sent.status).toBe(200);
    await waitFor('the end of the prompt', async () => (ws.messages.some((m) => m.type === 'executing' && m.data.node === null) ? true : undefined));
    const types = ws.messages.map((m) => m.type);
    expect(types.indexOf('execution_start')).toBeLessThan(types.indexOf('executed'));
    expect(types.indexOf('executed')).toBeLessThan(types.indexOf('execution_success'));
    await revokeKey(rig.stateDir, 'revoked-mid-socket');
    expect(await ws.closed).toEqual([1008, 'API key revoked or expired']);
    expect((await call(`${gw}/system_stats`, { key: victim.key })).status).toBe(401);
    await expect(openWs(`${gw.replace('http', 'ws')}/ws?token=${victim.key}`)).rejects.toThrow('401');
  });

  it('a key with an expiry stops working when it passes, its WebSocket included', async () => {
    const short = await rig.key('short-lived', 'generate', { expiresAt: new Date(Date.now() + 4000) });
    await waitFor('the key', async () => ((await call(`${gw}/system_stats`, { key: short.key })).status === 200 ? true : undefined));
    const ws = await openWs(`${gw.replace('http', 'ws')}/ws?token=${short.key}`);
    expect((await ws.closed)[0]).toBe(1008);
    expect((await call(`${gw}/system_stats`, { key: short.key })).status).toBe(401);
  });

  it('rotation with an overlap: both keys work, usage shows who still uses the old one, then only the successor works', async () => {
    const old = await rig.key('notebook', 'read');
    await waitFor('the key', async () => ((await call(`${gw}/system_stats`, { key: old.key })).status === 200 ? true : undefined));
    const { successor, previous } = await rotateKey(rig.stateDir, 'notebook', 5000);
    expect(previous.state).toBe('overlap');
    await waitFor('the successor', async () => ((await call(`${gw}/system_stats`, { key: successor.key })).status === 200 ? true : undefined));
    expect((await call(`${gw}/system_stats`, { key: old.key })).status).toBe(200);
    const report = await waitFor('the usage of the old key', async () => {
      const u = (await usage(rig.stateDir)).find((e) => e.key === old.id);
      return u && u.requests >= 2 ? u : undefined;
    });
    expect(report.name).toBe('notebook');
    expect(report.addresses.length).toBeGreaterThan(0);
    expect(Date.parse(report.lastUsedAt!)).toBeGreaterThan(Date.parse(previous.createdAt));
    await waitFor('the end of the overlap', async () => ((await call(`${gw}/system_stats`, { key: old.key })).status === 401 ? true : undefined), 20_000);
    expect((await call(`${gw}/system_stats`, { key: successor.key })).status).toBe(200);
  });

  it('signs a person in with a key or a one-time link: an HttpOnly SameSite=Strict session that dies with the key', async () => {
    const person = await rig.key('student', 'generate');
    await waitFor('the key', async () => ((await call(`${gw}/system_stats`, { key: person.key })).status === 200 ? true : undefined));
    const form = await call(`${gw}/_gateway/login`);
    expect(form.status).toBe(200);
    expect(form.body).toContain('name="key"');
    const wrong = await call(`${gw}/_gateway/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'key=cpk_nope&next=%2F' });
    expect(wrong.status).toBe(401);
    const ok = await call(`${gw}/_gateway/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: person.key, next: '/queue' }).toString() });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/queue');
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^cpg_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(cookie).not.toContain(person.key);
    const session = cookie.split(';')[0]!;
    expect((await call(`${gw}/queue`, { headers: { Cookie: session } })).status).toBe(200);
    const ws = await openWs(`${gw.replace('http', 'ws')}/ws`, { headers: { Cookie: session } });
    // A ComfyUI session cookie next to it changes nothing and is not forwarded.
    expect((await call(`${gw}/queue`, { headers: { Cookie: `${session}; AIOHTTP_SESSION=abc` } })).status).toBe(200);

    const link = await mintLoginLink(rig.stateDir, 'student');
    expect((await call(`${gw}${link.path}`)).body).toContain('name="link"');
    // A key written after the link: once it works, the store holding the link is loaded.
    const marker = await rig.key('after-link', 'read');
    await waitFor('the store with the link', async () => ((await call(`${gw}/system_stats`, { key: marker.key })).status === 200 ? true : undefined));
    const token = new URL(link.path, gw).searchParams.get('link')!;
    const viaLink = await call(`${gw}/_gateway/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ link: token }).toString() });
    expect(viaLink.status).toBe(303);
    const again = await call(`${gw}/_gateway/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ link: token }).toString() });
    expect(again.status).toBe(401);

    await revokeKey(rig.stateDir, 'student');
    await waitFor('the session to end', async () => ((await call(`${gw}/queue`, { headers: { Cookie: session } })).status === 401 ? true : undefined));
    expect((await ws.closed)[0]).toBe(1008);
  });

  it('limits a key to its rate and its share of the queue, and lets it interrupt only its own prompt', async () => {
    const limited = await rig.key('rate-limited', 'read', { rateLimit: { requests: 3, perSeconds: 3600 } });
    await waitFor('the key', async () => ((await call(`${gw}/prompt`, { key: limited.key })).status === 200 ? true : undefined));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${gw}/prompt`, { key: limited.key })).status);
    expect(statuses.slice(-1)).toEqual([429]);
    const last = await call(`${gw}/prompt`, { key: limited.key });
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = await rig.key('someone-else', 'generate');
    await waitFor('the key', async () => ((await call(`${gw}/system_stats`, { key: other.key })).status === 200 ? true : undefined));
    // Nothing of this key runs: a global interrupt from it is refused, never forwarded as global.
    expect((await call(`${gw}/interrupt`, { method: 'POST', key: other.key })).status).toBe(403);
    expect((await call(`${gw}/interrupt`, { method: 'POST', key: other.key, body: JSON.stringify({ prompt_id: 'not-mine' }) })).status).toBe(403);
    expect((await call(`${gw}/interrupt`, { method: 'POST', key: admin.key })).status).toBe(200);
  });

  it('the control channel needs the control key; status reports keys, secret and queue without secrets', async () => {
    expect((await call(`${gw}/_gateway/control/status`, { key: admin.key })).status).toBe(401);
    expect((await call(`${gw}/_gateway/control/status?token=${control.key}`)).status).toBe(401);
    const s = await call(`${gw}/_gateway/control/status`, { key: control.key });
    expect(s.status).toBe(200);
    const status = JSON.parse(s.body) as { intake: { state: string }; secret: { loaded: boolean; fingerprint: string }; keys: { keys: number }; upstream: { reachable: boolean } };
    expect(status.intake.state).toBe('serving');
    expect(status.secret.loaded).toBe(true);
    expect(status.secret.fingerprint).toMatch(/^fp:[0-9a-f]{12}$/);
    expect(status.upstream.reachable).toBe(true);
    expect((await call(`${gw}/_gateway/health`)).status).toBe(200);
    await waitFor('the container to be healthy', async () => ((await rig.gateway.inspect()).State.Health?.Status === 'healthy' ? true : undefined), 150_000);
  });

  it('no key and no upstream hash in any response or in the gateway log; a key in the URL is never logged', async () => {
    await call(`${gw}/system_stats?token=${read.key}`);
    const gatewayLog = await rig.logs(rig.gateway);
    expect(gatewayLog).toContain('"GET /system_stats" 200');
    const created = (await import('../../app/gateway/index.js')).listKeys;
    expect((await created(rig.stateDir)).length).toBeGreaterThan(5);
    for (const secret of [...keys, rig.hash, encodeURIComponent(rig.hash)]) {
      expect(gatewayLog.includes(secret), 'gateway log').toBe(false);
      expect(seen.some((s) => s.includes(secret)), 'responses').toBe(false);
    }
    // Nothing raw on disk either: the store holds hashes only.
    const store = await (await import('node:fs/promises')).readFile(`${rig.stateDir}/keys.json`, 'utf8');
    for (const k of keys) expect(store).not.toContain(k);
    expect(store).not.toContain('cpk_');
  });
});
