import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const run = promisify(execFile);
const assets = path.resolve('assets/docker/comfyui-qwen');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'docker-entry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A ComfyUI root and a `python` stub that prints its arguments instead of starting ComfyUI. */
function fixture(name: string, opts: { loginNode: boolean }) {
  const root = path.join(tmp, name, 'ComfyUI');
  const bin = path.join(tmp, name, 'bin');
  mkdirSync(bin, { recursive: true });
  mkdirSync(path.join(root, 'custom_nodes'), { recursive: true });
  if (opts.loginNode) {
    mkdirSync(path.join(root, 'custom_nodes', 'ComfyUI-Login'));
    writeFileSync(path.join(root, 'custom_nodes', 'ComfyUI-Login', '__init__.py'), '');
  }
  writeFileSync(path.join(bin, 'python'), '#!/bin/sh\necho "python $*"\n', { mode: 0o755 });
  return { root, env: { PATH: `${bin}:/usr/bin:/bin`, COMFYUI_ROOT: root } };
}

async function entrypoint(env: Record<string, string>, args: string[] = []) {
  return run('/bin/sh', [path.join(assets, 'entrypoint.sh'), ...args], { env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('assets/docker/comfyui-qwen/entrypoint.sh (run with /bin/sh, ComfyUI stubbed)', () => {
  const hash = '$2b$12$' + 'x'.repeat(53);
  const secret = path.join(tmp, 'secret.token');
  writeFileSync(secret, `${hash}\nqwen\n\n`, { mode: 0o600 });

  it('installs login/PASSWORD from the secret: mode 0600, no trailing newline, then execs ComfyUI with the args', async () => {
    const f = fixture('ok', { loginNode: true });
    const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: secret, COMFYUI_AUTH_REQUIRED: '1' }, ['--preview-method', 'auto']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('python main.py --listen 0.0.0.0 --port 8188 --preview-method auto');
    const pw = path.join(f.root, 'login', 'PASSWORD');
    expect(readFileSync(pw, 'utf8')).toBe(`${hash}\nqwen`);
    expect(statSync(pw).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(hash);
  });

  it('refuses to start when auth is required but the login node is missing', async () => {
    const f = fixture('nonode', { loginNode: false });
    const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: secret, COMFYUI_AUTH_REQUIRED: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ComfyUI-Login node is missing.*refusing/);
    expect(r.stdout).not.toContain('python main.py');
  });

  it('refuses when auth is required but there is no password (the first visitor would set it)', async () => {
    const f = fixture('nopw', { loginNode: true });
    const r = await entrypoint({ ...f.env, COMFYUI_AUTH_REQUIRED: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PASSWORD is missing/);
  });

  it('an unreadable secret path fails loudly instead of starting with an old password', async () => {
    const f = fixture('badsecret', { loginNode: true });
    const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: path.join(tmp, 'absent.token') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing or not readable/);
    expect(existsSync(path.join(f.root, 'login', 'PASSWORD'))).toBe(false);
  });

  it('runs without auth when not required and no login node', async () => {
    const f = fixture('open', { loginNode: false });
    expect((await entrypoint(f.env)).code).toBe(0);
  });
});

describe('assets/docker/comfyui-qwen recipe', () => {
  it('the Dockerfile pins ComfyUI v0.3.64 and a ComfyUI-Login commit, runs as non-root, healthchecks, uses the entrypoint', () => {
    const df = readFileSync(path.join(assets, 'Dockerfile'), 'utf8');
    expect(df).toMatch(/^FROM nvidia\/cuda:12\.4\.1-cudnn-runtime-ubuntu22\.04$/m);
    expect(df).toMatch(/^ARG COMFYUI_REF=v0\.3\.64$/m);
    expect(df).toMatch(/^ARG COMFYUI_LOGIN_COMMIT=[0-9a-f]{40}$/m);
    expect(df).toMatch(/^USER comfy$/m);
    expect(df).toMatch(/^HEALTHCHECK .*CMD \["\/usr\/local\/bin\/comfy-healthcheck"\]$/m);
    expect(df).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/usr\/local\/bin\/entrypoint\.sh"\]$/m);
    for (const f of ['entrypoint.sh', 'comfy-healthcheck']) expect(statSync(path.join(assets, f)).mode & 0o111).toBeTruthy();
  });

  it('compose.yaml matches what the panel creates: GPU, loopback port, secret, healthcheck, restart policy', () => {
    const c = YAML.parse(readFileSync(path.join(assets, 'compose.yaml'), 'utf8'));
    const s = c.services.comfyui;
    expect(s).toMatchObject({
      container_name: 'comfyui-qwen',
      ports: ['127.0.0.1:8188:8188'],
      environment: { COMFYUI_SECRET_FILE: '/run/secrets/comfyui-password', COMFYUI_AUTH_REQUIRED: '1' },
      secrets: [{ source: 'comfyui-password', target: 'comfyui-password' }],
      healthcheck: { test: ['CMD', '/usr/local/bin/comfy-healthcheck'] },
      restart: 'unless-stopped',
    });
    expect(s.deploy.resources.reservations.devices[0]).toMatchObject({ driver: 'nvidia', capabilities: ['gpu'] });
    expect(c.secrets['comfyui-password'].file).toBe('./.secrets/qwen-api-user.token');
  });
});
