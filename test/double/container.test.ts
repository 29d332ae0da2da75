import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { runDoubleContainer, waitFor, type DoubleContainer, type DoubleContainerOptions } from './container-helpers.js';
import { SMOKE_GRAPH } from './helpers.js';

const d = await requireDocker();
const ROOT = '/workspace/ComfyUI';
const stat = (path: string) => `const s=require('fs').statSync(${JSON.stringify(path)});console.log(s.uid+' '+(s.mode&0o7777).toString(8))`;
const exists = (path: string) => `console.log(require('fs').existsSync(${JSON.stringify(path)}))`;

// Each test starts containers and waits for conditions; a loaded shared engine can take minutes.
describe.skipIf(!d.ok)('the double as a container image', { timeout: 240_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  const started: DoubleContainer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'double-secret-'));
  const hash = bcrypt.hashSync('container password', 4);
  /** A secret file as the panel writes it: hash, newline, user name (plus a trailing newline the entrypoint drops). */
  const secret = (name: string, mode: number, content = `${hash}\nadmin\n`) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    chmodSync(file, mode);
    return file;
  };
  let readable: string;
  let tag: string;

  async function run(opts: DoubleContainerOptions): Promise<DoubleContainer> {
    const c = await runDoubleContainer(docker, opts);
    started.push(c);
    return c;
  }
  const probe = (url: string, headers: Record<string, string> = {}, path = '/system_stats') => fetch(`${url}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(5000) });

  beforeAll(async () => {
    readable = secret('readable.token', 0o644);
    tag = await ensureDoubleImage(docker);
  }, 120_000);
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.remove()));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a reusable image tagged by content, with tini as PID 1 and the ComfyUI tree owned by uid 1000', async () => {
    expect(tag).toMatch(/^comfy-panel-double:[0-9a-f]{16}$/);
    expect(await ensureDoubleImage(docker)).toBe(tag);
    const image = await docker.getImage(tag).inspect();
    expect(image.Config.Entrypoint).toEqual(['/usr/bin/tini', '--', '/usr/bin/node', '/app/entrypoint.mjs']);
    expect(image.Config.ExposedPorts).toHaveProperty('8188/tcp');
    expect(image.Config.Healthcheck).toBeFalsy();
    const c = await run({ name: 'layout', publish: false, healthcheck: false });
    await waitFor('the container to run', async () => ((await c.container.inspect()).State.Running ? true : undefined));
    for (const [path, want] of [
      [`${ROOT}/login`, '1000 700'],
      [`${ROOT}/output`, '1000 755'],
      [`${ROOT}/user`, '1000 755'],
      [`${ROOT}/custom_nodes/ComfyUI-Login`, '1000 755'],
      ['/usr/bin/tini', '0 755'],
    ] as const) {
      expect(await c.execNode(stat(path)), path).toBe(want);
    }
    expect(await c.execNode("console.log(require('fs').readFileSync('/proc/1/cmdline','utf8').split('\\0')[0])")).toBe('/usr/bin/tini');
    expect(await c.execNode(exists('/usr/bin/nvidia-smi'))).toBe('false');
  });

  it('[L1] [L35] [L36] [S9] [S14] serves with the mounted secret: 401 anonymous (healthy), 200 with the hash, PASSWORD 0600, and umask 077 makes the key file and PNGs 0600; SIGKILL of ComfyUI is a crash (137)', async () => {
    const c = await run({ name: 'auth', secretFile: readable, authRequired: true });
    const url = await c.ready();
    expect((await probe(url)).status).toBe(401);
    const ok = await probe(url, { Authorization: `Bearer ${hash}` });
    expect(ok.status).toBe(200);
    const stats = (await ok.json()) as { system: { argv: string[] }; devices: { type: string }[] };
    expect(stats.system.argv).toEqual(['main.py', '--listen', '0.0.0.0', '--port', '8188', '--cpu']);
    await waitFor('healthy', async () => ((await c.container.inspect()).State.Health?.Status === 'healthy' ? true : undefined));
    const text = await c.logs();
    expect(text).toContain('[entrypoint] login/PASSWORD installed from /run/secrets/comfyui-password');
    expect(text).toContain(`For direct API calls, use token=${hash}`);
    expect(text).toContain(`   0.0 seconds: ${ROOT}/custom_nodes/ComfyUI-Login`);
    expect(text).toContain('To see the GUI go to: http://0.0.0.0:8188');
    expect(await c.execNode(`console.log(require('fs').readFileSync('${ROOT}/login/PASSWORD','utf8')===${JSON.stringify(`${hash}\nadmin`)})`)).toBe('true');
    expect(await c.execNode(stat(`${ROOT}/login/PASSWORD`))).toBe('0 600');
    expect(await c.execNode(stat(`${ROOT}/custom_nodes/ComfyUI-Login/.secret-key.txt`))).toBe('0 600');
    expect(((await (await probe(url, { Authorization: `Bearer ${hash}` }, '/extensions')).json()) as string[]).length).toBe(5);
    const sub = await fetch(`${url}/prompt`, { method: 'POST', headers: { Authorization: `Bearer ${hash}` }, body: JSON.stringify({ prompt: SMOKE_GRAPH }) });
    expect(sub.status).toBe(200);
    expect(await waitFor('the PNG', async () => ((await c.execNode(exists(`${ROOT}/output/smoke_00001_.png`))) === 'true' ? true : undefined))).toBe(true);
    expect(await c.execNode(stat(`${ROOT}/output/smoke_00001_.png`))).toBe('0 600');
    await c.execNode("process.kill(Number(require('fs').readFileSync('/tmp/comfyui.pid','utf8')),'SIGKILL')");
    expect(await c.exitCode()).toBe(137);
  });

  it('[L3] [S1] [S2] installs the secret at every start: a rotated secret takes effect on restart, old browser sessions survive it, a new key file ends them', async () => {
    const file = secret('rotate.token', 0o644);
    const c = await run({ name: 'rotate', secretFile: file });
    let url = await c.ready();
    const login = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ username: 'a', password: 'container password' }), redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const rotated = bcrypt.hashSync('rotated password', 4);
    writeFileSync(file, `${rotated}\nadmin`); // same inode: the bind mount sees it
    expect((await probe(url, { Authorization: `Bearer ${rotated}` })).status).toBe(401); // read once: not before a restart
    await c.container.restart({ t: 10 });
    url = await c.ready();
    expect((await probe(url, { Authorization: `Bearer ${rotated}` })).status).toBe(200);
    expect((await probe(url, { Authorization: `Bearer ${hash}` })).status).toBe(401);
    expect((await probe(url, { Cookie: cookie })).status).toBe(200);
    await c.execNode(`require('fs').rmSync('${ROOT}/custom_nodes/ComfyUI-Login/.secret-key.txt')`);
    await c.container.restart({ t: 10 });
    url = await c.ready();
    expect((await probe(url, { Cookie: cookie })).status).toBe(401);
  });

  it('[S11] runs as --user 1000:1000 (key file written by uid 1000) and ends with 143 on docker stop under tini, also under docker --init', async () => {
    for (const init of [false, true]) {
      const c = await run({ name: `user-${init ? 'init' : 'tini'}`, user: '1000:1000', secretFile: readable, authRequired: true, init });
      const url = await c.ready();
      expect((await probe(url, { Authorization: `Bearer ${hash}` })).status).toBe(200);
      expect(await c.execNode(stat(`${ROOT}/custom_nodes/ComfyUI-Login/.secret-key.txt`))).toBe('1000 600');
      expect(await c.execNode(stat(`${ROOT}/login/PASSWORD`))).toBe('1000 600');
      await c.container.stop({ t: 10 });
      expect((await c.container.inspect()).State.ExitCode).toBe(143);
    }
  });

  it('[S12] refuses a root-owned 0600 secret as uid 1000 with the recipe\'s message and exit 1, at every restart', async () => {
    const c = await run({ name: 'unreadable', user: '1000:1000', secretFile: secret('root-only.token', 0o600), authRequired: true, publish: false });
    expect(await c.exitCode()).toBe(1);
    expect(await c.logs()).toContain('[entrypoint] COMFYUI_SECRET_FILE=/run/secrets/comfyui-password is missing or not readable by uid 1000; mount the secret file there read-only, readable by this user');
    await c.container.start();
    expect(await c.exitCode()).toBe(1);
  });

  it('refuses a secret path that does not exist (exit 1); --no-login without a secret serves openly and stops with 143', async () => {
    const absent = await run({ name: 'absent', secretPath: '/run/secrets/absent', publish: false });
    expect(await absent.exitCode()).toBe(1);
    expect(await absent.logs()).toContain('COMFYUI_SECRET_FILE=/run/secrets/absent is missing or not readable by uid 0');
    const open = await run({ name: 'open', login: false, samplerMs: 10 });
    const url = await open.ready();
    expect((await probe(url)).status).toBe(200);
    expect(await open.execNode(exists(`${ROOT}/custom_nodes/ComfyUI-Login`))).toBe('false');
    expect(await open.logs()).not.toContain('For direct API calls');
    await open.container.stop({ t: 10 });
    expect((await open.container.inspect()).State.ExitCode).toBe(143);
  });

  it('refuses to start when COMFYUI_AUTH_REQUIRED=1 and the login node or the password is missing (exit 1)', async () => {
    const nonode = await run({ name: 'guard', login: false, secretFile: readable, authRequired: true, publish: false });
    expect(await nonode.exitCode()).toBe(1);
    expect(await nonode.logs()).toContain('COMFYUI_AUTH_REQUIRED=1 but the ComfyUI-Login node is missing');
    const nopw = await run({ name: 'nopw', authRequired: true, publish: false });
    expect(await nopw.exitCode()).toBe(1);
    expect(await nopw.logs()).toContain(`[entrypoint] COMFYUI_AUTH_REQUIRED=1 but ${ROOT}/login/PASSWORD is missing: set COMFYUI_SECRET_FILE to the mounted secret; refusing to start.`);
  });

  it('[S6] --login-node-version pre-token: the entrypoint\'s login/PASSWORD is ignored, tokens get 302, the first POST /login owns the server; still "healthy"', async () => {
    const c = await run({ name: 'pretoken', loginNodeVersion: 'pre-token', secretFile: readable, authRequired: true });
    const url = await c.ready();
    for (const headers of [{}, { Authorization: `Bearer ${hash}` }] as Record<string, string>[]) {
      const res = await probe(url, headers);
      expect([res.status, res.headers.get('location')]).toEqual([302, '/login']);
    }
    expect((await probe(url, {}, `/system_stats?token=${encodeURIComponent(hash)}`)).status).toBe(302);
    const first = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ password: 'attacker' }), redirect: 'manual' });
    expect(first.headers.get('location')).toBe('/');
    expect((await probe(url, { Cookie: first.headers.get('set-cookie')!.split(';')[0]! })).status).toBe(200);
    expect(await c.execNode(exists(`${ROOT}/PASSWORD`))).toBe('true');
    expect(await c.logs()).not.toContain('For direct API calls');
    // The recipe's healthcheck follows the redirect to /login (200): the container looks healthy.
    await waitFor('healthy', async () => ((await c.container.inspect()).State.Health?.Status === 'healthy' ? true : undefined));
  });

  it('[S8] --login-import-failed passes the entrypoint guard (the node\'s folder is there) yet serves without auth; the log says IMPORT FAILED', async () => {
    const c = await run({ name: 'importfail', loginImportFailed: true, secretFile: readable, authRequired: true });
    const url = await c.ready();
    expect((await probe(url)).status).toBe(200);
    const text = await c.logs();
    expect(text).toContain("ModuleNotFoundError: No module named 'Crypto'");
    expect(text).toContain(`   0.0 seconds (IMPORT FAILED): ${ROOT}/custom_nodes/ComfyUI-Login`);
  });

  it('[S7] COMFY_DOUBLE_CORS_ORIGIN (the env spelling of --cors-origin): a valid Bearer without Origin is 401, with the Origin 200', async () => {
    const c = await run({ name: 'cors', secretFile: readable, env: ['COMFY_DOUBLE_CORS_ORIGIN=https://panel.example'] });
    const url = await c.ready();
    expect((await probe(url, { Authorization: `Bearer ${hash}` })).status).toBe(401);
    expect((await probe(url, { Authorization: `Bearer ${hash}`, Origin: 'https://panel.example' })).status).toBe(200);
  });

  it('[S4] as uid 1000, an anonymous POST /api/userdata/x.js lands in user/default/', async () => {
    const c = await run({ name: 'userdata', user: '1000:1000', secretFile: readable });
    const url = await c.ready();
    expect((await fetch(`${url}/api/userdata/x.js`, { method: 'POST', body: 'x' })).status).toBe(200);
    expect(await c.execNode(stat(`${ROOT}/user/default/x.js`))).toBe('1000 600');
    expect((await fetch(`${url}/api/userdata/x.json`, { method: 'POST', body: '{}' })).status).toBe(401);
  });
});
