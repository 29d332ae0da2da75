import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';

const d = await requireDocker();
const SECRET_IN_CONTAINER = '/run/secrets/comfyui-password';

/** Joins the frames of a non-TTY log or exec stream (8-byte header: stream, 0, 0, 0, size). */
function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  for (let off = 0; off + 8 <= buf.length; off += 8 + buf.readUInt32BE(off + 4)) out.push(buf.subarray(off + 8, off + 8 + buf.readUInt32BE(off + 4)));
  return Buffer.concat(out).toString('utf8');
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!d.ok)('the double as a container image', () => {
  const docker = (d as { docker: Docker }).docker;
  const containers: Docker.Container[] = [];
  const secretDir = mkdtempSync(join(tmpdir(), 'double-secret-'));
  const secretFile = join(secretDir, 'qwen-api-user.token');
  const hash = bcrypt.hashSync('container password', 4);
  let tag: string;

  async function start(name: string, opts: { env?: string[]; args?: string[]; publish?: boolean; secret?: boolean } = {}) {
    const c = await docker.createContainer({
      name: `double-test-${name}-${process.pid}`,
      Image: tag,
      Cmd: opts.args ?? [],
      Env: opts.env ?? [],
      ExposedPorts: { '8188/tcp': {} },
      Healthcheck: { Test: ['CMD', '/usr/local/bin/comfy-healthcheck'], Interval: 500_000_000, Timeout: 3_000_000_000, Retries: 3, StartPeriod: 0 },
      HostConfig: {
        PortBindings: opts.publish ? { '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } : undefined,
        Binds: opts.secret ? [`${secretFile}:${SECRET_IN_CONTAINER}:ro`] : undefined,
      },
    });
    containers.push(c);
    await c.start();
    return c;
  }

  async function hostUrl(c: Docker.Container): Promise<string> {
    const info = await c.inspect();
    const port = info.NetworkSettings.Ports['8188/tcp']?.[0]?.HostPort;
    if (!port) throw new Error('port 8188 is not published');
    return `http://127.0.0.1:${port}`;
  }

  async function logs(c: Docker.Container): Promise<string> {
    return demux(await c.logs({ stdout: true, stderr: true, follow: false }));
  }

  /** Runs node inside the container (the image has no shell) and returns its stdout. */
  async function execNode(c: Docker.Container, script: string): Promise<string> {
    const exec = await c.exec({ Cmd: ['node', '-e', script], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((ok, fail) => {
      stream.on('data', (b: Buffer) => chunks.push(b));
      stream.on('end', () => ok());
      stream.on('error', fail);
    });
    return demux(Buffer.concat(chunks)).trim();
  }

  async function exitCode(c: Docker.Container): Promise<number> {
    return (await c.wait()).StatusCode as number;
  }

  beforeAll(async () => {
    writeFileSync(secretFile, `${hash}\nadmin`);
    chmodSync(secretFile, 0o644);
    tag = await ensureDoubleImage(docker);
  });

  afterAll(async () => {
    await Promise.all(containers.map((c) => c.remove({ force: true }).catch(() => undefined)));
    rmSync(secretDir, { recursive: true, force: true });
  });

  it('builds a reusable image tagged by content', async () => {
    expect(tag).toMatch(/^comfy-panel-double:[0-9a-f]{16}$/);
    expect(await ensureDoubleImage(docker)).toBe(tag);
    const image = await docker.getImage(tag).inspect();
    expect(image.Config.Entrypoint).toEqual(['/usr/bin/node', '/app/entrypoint.mjs']);
    expect(image.Config.ExposedPorts).toHaveProperty('8188/tcp');
    expect(image.Config.Healthcheck).toBeFalsy();
  });

  it('serves with the mounted secret: 401 anonymous, 200 with the hash, healthy, token line in logs, crash on SIGKILL', async () => {
    const c = await start('auth', { publish: true, secret: true, env: [`COMFYUI_SECRET_FILE=${SECRET_IN_CONTAINER}`, 'COMFYUI_AUTH_REQUIRED=1'] });
    const url = await hostUrl(c);
    const anonymous = await waitFor('the published port', async () => (await fetch(`${url}/system_stats`, { signal: AbortSignal.timeout(2000) })).status);
    expect(anonymous).toBe(401);
    const ok = await fetch(`${url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } });
    expect(ok.status).toBe(200);
    const stats = (await ok.json()) as { system: { argv: string[] }; devices: { type: string }[] };
    expect(stats.system.argv).toEqual(['main.py', '--listen', '0.0.0.0', '--port', '8188', '--cpu']);
    expect(stats.devices.map((x) => x.type)).toEqual(['cpu']);
    await waitFor('healthy', async () => ((await c.inspect()).State.Health?.Status === 'healthy' ? true : undefined));
    const text = await logs(c);
    expect(text).toContain(`For direct API calls, use token=${hash}`);
    expect(text).toContain('   0.0 seconds: /workspace/ComfyUI/custom_nodes/ComfyUI-Login');
    expect(text).toContain('To see the GUI go to: http://0.0.0.0:8188');
    expect(await execNode(c, "const s=require('fs').statSync('/workspace/ComfyUI/login/PASSWORD');console.log((s.mode&0o777).toString(8))")).toBe('600');
    expect(await execNode(c, "console.log(require('fs').existsSync('/usr/bin/nvidia-smi'))")).toBe('false');
    await execNode(c, "process.kill(Number(require('fs').readFileSync('/tmp/comfyui.pid','utf8')),'SIGKILL')");
    expect(await exitCode(c)).toBe(137);
  });

  it('copies the secret at every start: a rotated secret takes effect on restart', async () => {
    const c = await start('rotate', { publish: true, secret: true, env: [`COMFYUI_SECRET_FILE=${SECRET_IN_CONTAINER}`] });
    const url = await hostUrl(c);
    const probe = (token: string) => fetch(`${url}/system_stats`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) }).then((r) => r.status);
    expect(await waitFor('the published port', () => probe(hash))).toBe(200);
    const rotated = bcrypt.hashSync('rotated password', 4);
    writeFileSync(secretFile, `${rotated}\nadmin`); // same inode: the bind mount sees it
    try {
      expect(await probe(rotated)).toBe(401); // read once: not before a restart
      await c.restart({ t: 10 });
      const after = await hostUrl(c);
      expect(await waitFor('the restarted server', () => fetch(`${after}/system_stats`, { headers: { Authorization: `Bearer ${rotated}` }, signal: AbortSignal.timeout(2000) }).then((r) => r.status))).toBe(200);
      expect((await fetch(`${after}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } })).status).toBe(401);
    } finally {
      writeFileSync(secretFile, `${hash}\nadmin`);
    }
  });

  it('--no-login serves without auth and has no login node folder; SIGTERM stops it cleanly', async () => {
    const c = await start('open', { publish: true, args: ['--no-login', '--sampler-ms', '10'], env: ['COMFYUI_SECRET_FILE=/run/secrets/absent'] });
    const url = await hostUrl(c);
    expect(await waitFor('the published port', async () => (await fetch(`${url}/system_stats`, { signal: AbortSignal.timeout(2000) })).status)).toBe(200);
    expect(await execNode(c, "console.log(require('fs').existsSync('/workspace/ComfyUI/custom_nodes/ComfyUI-Login'))")).toBe('false');
    const text = await logs(c);
    expect(text).not.toContain('For direct API calls');
    expect(text).toContain('COMFYUI_SECRET_FILE=/run/secrets/absent is not readable (ENOENT)');
    await c.stop({ t: 10 });
    expect((await c.inspect()).State.ExitCode).toBe(0);
  });

  it('refuses to start without the login node when COMFYUI_AUTH_REQUIRED=1 (exit 1)', async () => {
    const c = await start('guard', { args: ['--no-login'], env: ['COMFYUI_AUTH_REQUIRED=1'] });
    expect(await exitCode(c)).toBe(1);
    expect(await logs(c)).toContain('COMFYUI_AUTH_REQUIRED=1 but the ComfyUI-Login node is missing');
  });
});
