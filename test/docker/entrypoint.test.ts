import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const run = promisify(execFile);
/** The ComfyUI-Login commit the recipe must pin: the newest, with token support (see the reference). */
const LOGIN_COMMIT = '69109257f4629a11ebe26cd65667536c4f8dddcb';
const assets = path.resolve('assets/docker/comfyui-qwen');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'docker-entry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A ComfyUI root and a `python` stub that prints its arguments instead of starting ComfyUI.
 * `verified` writes the version marker the image build's import check leaves (default: yes).
 */
function fixture(name: string, opts: { loginNode: boolean; verified?: boolean }) {
  const root = path.join(tmp, name, 'ComfyUI');
  const bin = path.join(tmp, name, 'bin');
  mkdirSync(bin, { recursive: true });
  mkdirSync(path.join(root, 'custom_nodes'), { recursive: true });
  if (opts.loginNode) {
    const node = path.join(root, 'custom_nodes', 'ComfyUI-Login');
    mkdirSync(node);
    writeFileSync(path.join(node, '__init__.py'), '');
    if (opts.verified ?? true) writeFileSync(path.join(node, '.comfy-panel-verified'), `commit=${LOGIN_COMMIT}\ntokens=yes\n`);
  }
  writeFileSync(path.join(bin, 'python'), '#!/bin/sh\necho "python $*"\n', { mode: 0o755 });
  return { root, env: { PATH: `${bin}:/usr/bin:/bin`, COMFYUI_ROOT: root } };
}

async function entrypoint(env: Record<string, string>, args: string[] = []) {
  return entrypointAs(undefined, env, args);
}

async function entrypointAs(uid: number | undefined, env: Record<string, string>, args: string[] = []) {
  return run('/bin/sh', [path.join(assets, 'entrypoint.sh'), ...args], { env, ...(uid === undefined ? {} : { uid, gid: uid }) }).then(
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
    expect(r.stderr).toMatch(/PASSWORD is missing \(the first visitor to \/login would choose the password\)/);
    expect(r.stdout).not.toContain('python main.py');
  });

  it('refuses a node the image build did not verify (no version marker: an old recipe or a node mounted over it)', async () => {
    const f = fixture('unverified', { loginNode: true, verified: false });
    const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: secret, COMFYUI_AUTH_REQUIRED: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.comfy-panel-verified is missing: this ComfyUI-Login was not verified by the image build/);
    expect(r.stdout).not.toContain('python main.py');
  });

  it('a marker without token support is refused too', async () => {
    const f = fixture('notokens', { loginNode: true, verified: false });
    writeFileSync(path.join(f.root, 'custom_nodes', 'ComfyUI-Login', '.comfy-panel-verified'), 'commit=7ef55034\ntokens=no\n');
    const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: secret, COMFYUI_AUTH_REQUIRED: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not verified/);
  });

  for (const [label, content, why] of [
    ['an empty first line', `\nqwen`, /line 1 of .*PASSWORD is empty \(an empty \?token= would pass\)/],
    ['only newlines', `\n\n`, /line 1 of .*PASSWORD is empty/],
    ['a raw password', `correct horse\nqwen`, /is not a bcrypt hash/],
    ['a truncated hash', `${hash.slice(0, 40)}\nqwen`, /is not a bcrypt hash/],
  ] as const) {
    it(`refuses a secret whose PASSWORD has ${label}`, async () => {
      const f = fixture(`bad-${label.replace(/\W+/g, '-')}`, { loginNode: true });
      const bad = path.join(tmp, `bad-${label.replace(/\W+/g, '-')}.token`);
      writeFileSync(bad, content, { mode: 0o600 });
      const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: bad, COMFYUI_AUTH_REQUIRED: '1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).not.toContain('python main.py');
      expect(r.stderr).not.toContain('correct horse');
    });
  }

  it('refuses a PASSWORD it cannot read (e.g. root-owned 0600 under the non-root user)', async () => {
    const f = fixture('unreadable-pw', { loginNode: true });
    mkdirSync(path.join(f.root, 'login'));
    const pw = path.join(f.root, 'login', 'PASSWORD');
    writeFileSync(pw, `${hash}\nqwen`, { mode: 0o000 });
    // root reads any file: run as nobody when the tests run as root (CI), else the mode suffices.
    chmodSync(tmp, 0o755);
    const r = await entrypointAs(process.getuid?.() === 0 ? 65534 : undefined, { ...f.env, COMFYUI_AUTH_REQUIRED: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PASSWORD is not readable by uid/);
  });

  it('a secret path that is a folder (a bind mount of a missing file) is refused', async () => {
    const f = fixture('secretdir', { loginNode: true });
    const dir = path.join(tmp, 'secret-as-dir');
    mkdirSync(dir);
    const r = await entrypoint({ ...f.env, COMFYUI_SECRET_FILE: dir, COMFYUI_AUTH_REQUIRED: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing or not readable/);
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
    expect(df).toMatch(new RegExp(`^ARG COMFYUI_LOGIN_COMMIT=${LOGIN_COMMIT}$`, 'm'));
    expect(df).toMatch(/^ENV COMFYUI_AUTH_REQUIRED=1$/m);
    expect(df).toMatch(/^USER comfy$/m);
    expect(df).toMatch(/^HEALTHCHECK .*CMD \["\/usr\/local\/bin\/comfy-healthcheck"\]$/m);
    expect(df).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/usr\/local\/bin\/entrypoint\.sh"\]$/m);
    for (const f of ['entrypoint.sh', 'comfy-healthcheck']) expect(statSync(path.join(assets, f)).mode & 0o111).toBeTruthy();
  });

  it('the build imports ComfyUI-Login with the image\'s Python after installing its requirements, and fails when it cannot', () => {
    const df = readFileSync(path.join(assets, 'Dockerfile'), 'utf8');
    // Instructions with their continuation lines joined, in order.
    const steps = df.replace(/\\\n/g, ' ').split('\n').filter((l) => /^[A-Z]+ /.test(l));
    const at = (re: RegExp) => steps.findIndex((l) => re.test(l));
    const install = at(/^RUN .*git fetch --depth 1 origin "\$\{COMFYUI_LOGIN_COMMIT\}".*git checkout --detach FETCH_HEAD.*pip install -r requirements\.txt/);
    const copy = at(/^COPY check-login-node\.py \/usr\/local\/lib\/comfy-panel\/$/);
    const check = at(/^RUN cd "\$\{COMFYUI_ROOT\}" && python \/usr\/local\/lib\/comfy-panel\/check-login-node\.py "\$\{COMFYUI_LOGIN_COMMIT\}"$/);
    expect(install).toBeGreaterThan(-1);
    expect(steps[install]).toContain('test "$(git rev-parse HEAD)" = "${COMFYUI_LOGIN_COMMIT}"');
    expect(copy).toBeGreaterThan(install);
    expect(check).toBeGreaterThan(copy);
    // Nothing after the check may replace or remove the node it verified.
    expect(steps.slice(check + 1).filter((l) => /ComfyUI-Login/.test(l))).toEqual([]);
    expect(check).toBeLessThan(at(/^USER comfy$/));
    // `python` is the venv's (PATH), where the node's requirements were installed.
    expect(df).toMatch(/^ {4}PATH=\/opt\/venv\/bin:/m);
    expect(existsSync(path.join(assets, 'check-login-node.py'))).toBe(true);
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
