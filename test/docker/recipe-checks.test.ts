import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { startComfyDouble } from '../comfy-double/server.js';
import { freePort } from './helpers.js';

const run = promisify(execFile);
const assets = path.resolve('assets/docker/comfyui-qwen');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'docker-recipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The image's scripts run with its Python 3; the host's Debian python3 stands in for it.
const PYTHON = '/usr/bin/python3';

type Outcome = { code: number; out: string };
const outcome = (p: Promise<{ stdout: string; stderr: string }>): Promise<Outcome> =>
  p.then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

async function healthcheck(base: string, authRequired: '0' | '1'): Promise<Outcome> {
  // Run through its shebang, as Docker's exec does.
  return outcome(run(path.join(assets, 'comfy-healthcheck'), [], { env: { COMFY_HEALTHCHECK_URL: base, COMFYUI_AUTH_REQUIRED: authRequired }, timeout: 20_000 }));
}

/** A server answering each path (with its query) from a table; everything else 404. */
async function scripted(routes: Record<string, { status: number; headers?: Record<string, string> }>): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const r = routes[req.url ?? ''] ?? { status: 404 };
    res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
    res.end('{}');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => srv.close(() => r())) };
}

describe('assets/docker/comfyui-qwen/comfy-healthcheck', () => {
  it('is healthy against the double with a PASSWORD: anonymous and empty-token requests get 401', async () => {
    const dir = path.join(tmp, 'double-pw');
    mkdirSync(path.join(dir, 'login'), { recursive: true });
    writeFileSync(path.join(dir, 'login', 'PASSWORD'), `${bcrypt.hashSync('pw', 4)}\nqwen`);
    const comfy = await startComfyDouble({ dir, port: 0 });
    try {
      const r = await healthcheck(comfy.url, '1');
      expect(r).toMatchObject({ code: 0 });
      expect(r.out).toContain('requires a token');
    } finally {
      await comfy.close();
    }
  });

  it('is unhealthy against the double without a PASSWORD: an empty ?token= passes, the first visitor would set it', async () => {
    const comfy = await startComfyDouble({ dir: path.join(tmp, 'double-nopw'), port: 0 });
    try {
      const r = await healthcheck(comfy.url, '1');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/\?token= \(empty\) answered 200: no password is set, the first visitor to \/login chooses it/);
    } finally {
      await comfy.close();
    }
  });

  it('a server without the login node is unhealthy when auth is required, healthy when it is not', async () => {
    const comfy = await startComfyDouble({ dir: path.join(tmp, 'double-open'), port: 0, login: false });
    try {
      const required = await healthcheck(comfy.url, '1');
      expect(required.code).toBe(1);
      expect(required.out).toMatch(/answered 200 without a token: ComfyUI-Login is not enforcing authentication/);
      expect(await healthcheck(comfy.url, '0')).toMatchObject({ code: 0 });
    } finally {
      await comfy.close();
    }
  });

  it('never follows a redirect to /login (a ComfyUI-Login without token support), whatever the auth setting', async () => {
    const srv = await scripted({ '/system_stats': { status: 302, headers: { Location: '/login' } }, '/login': { status: 200 } });
    try {
      for (const auth of ['1', '0'] as const) {
        const r = await healthcheck(srv.url, auth);
        expect(r.code).toBe(1);
        expect(r.out).toMatch(/answered 302 -> \/login: this ComfyUI-Login has no token support/);
      }
      expect(srv.seen).not.toContain('/login');
    } finally {
      await srv.close();
    }
  });

  it('a redirect of the empty-token probe is not healthy either', async () => {
    const srv = await scripted({ '/system_stats': { status: 401 }, '/system_stats?token=': { status: 302, headers: { Location: '/login' } }, '/login': { status: 200 } });
    try {
      expect((await healthcheck(srv.url, '1')).code).toBe(1);
    } finally {
      await srv.close();
    }
  });

  it('a server error or no server at all is unhealthy', async () => {
    const srv = await scripted({ '/system_stats': { status: 500 } });
    try {
      expect(await healthcheck(srv.url, '1')).toMatchObject({ code: 1, out: expect.stringContaining('answered 500') as unknown });
    } finally {
      await srv.close();
    }
    const r = await healthcheck(`http://127.0.0.1:${await freePort()}`, '1');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/does not answer/);
  });
});

/**
 * check-login-node.py against a minimal ComfyUI stand-in: ComfyUI's PromptServer holds the
 * aiohttp app the node attaches its middleware to, and nodes.load_custom_node imports the
 * node folder, prints the traceback of a failure and returns False, as ComfyUI's loader does.
 */
function fakeComfy(name: string, node: string | undefined): string {
  const root = path.join(tmp, name);
  mkdirSync(path.join(root, 'comfy'), { recursive: true });
  writeFileSync(path.join(root, 'comfy', '__init__.py'), '');
  writeFileSync(path.join(root, 'comfy', 'options.py'), 'args_parsing = False\ndef enable_args_parsing(enable=True):\n    global args_parsing\n    args_parsing = enable\n');
  writeFileSync(
    path.join(root, 'server.py'),
    'import sys\nimport comfy.options\nassert comfy.options.args_parsing and sys.argv[1:] == ["--cpu"], "parse args like main.py"\n' +
      'class App:\n    def __init__(self):\n        self.middlewares = []\n' +
      'class PromptServer:\n    instance = None\n    def __init__(self, loop):\n        PromptServer.instance = self\n        self.app = App()\n',
  );
  writeFileSync(
    path.join(root, 'nodes.py'),
    'import importlib.util, os, sys, traceback\n' +
      'async def load_custom_node(module_path, ignore=set(), module_parent="custom_nodes"):\n' +
      '    try:\n' +
      '        spec = importlib.util.spec_from_file_location(module_path.replace(".", "_x_"), os.path.join(module_path, "__init__.py"))\n' +
      '        module = importlib.util.module_from_spec(spec)\n' +
      '        sys.modules[spec.name] = module\n' +
      '        spec.loader.exec_module(module)\n' +
      '        return True\n' +
      '    except Exception as e:\n' +
      '        print(traceback.format_exc())\n' +
      '        print(f"Cannot import {module_path} module for custom nodes: {e}")\n' +
      '        return False\n',
  );
  if (node !== undefined) {
    mkdirSync(path.join(root, 'custom_nodes', 'ComfyUI-Login'), { recursive: true });
    writeFileSync(path.join(root, 'custom_nodes', 'ComfyUI-Login', '__init__.py'), node);
  }
  return root;
}

const NODE_HEAD = 'import os, server\napp = server.PromptServer.instance.app\nopen(os.path.join(os.path.dirname(__file__), ".secret-key.txt"), "w").write("k,2024-01-01")\n';
const WITH_TOKENS = `${NODE_HEAD}def load_token():\n    pass\ndef check_login_status(request, handler):\n    pass\napp.middlewares.append(check_login_status)\n`;
const COMMIT = '69109257f4629a11ebe26cd65667536c4f8dddcb';

async function check(root: string): Promise<Outcome> {
  return outcome(run(PYTHON, [path.join(assets, 'check-login-node.py'), COMMIT], { cwd: root, env: { PATH: '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1' } }));
}

describe('assets/docker/comfyui-qwen/check-login-node.py (the build-time import check)', () => {
  const marker = (root: string) => path.join(root, 'custom_nodes', 'ComfyUI-Login', '.comfy-panel-verified');

  it('passes a node that loads and enforces tokens, writes the version marker and removes the session key it created', async () => {
    const root = fakeComfy('ok', WITH_TOKENS);
    const r = await check(root);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain(`ComfyUI-Login ${COMMIT} imports and enforces tokens`);
    expect(readFileSync(marker(root), 'utf8')).toBe(`commit=${COMMIT}\ntokens=yes\n`);
    // A key baked into the image would let anyone holding the image forge sessions on every container.
    expect(existsSync(path.join(root, 'custom_nodes', 'ComfyUI-Login', '.secret-key.txt'))).toBe(false);
  });

  it('fails the build when the node cannot be imported (Crypto missing, Cryptodome installed)', async () => {
    const root = fakeComfy('crypto', `from Crypto.Cipher import AES\n${WITH_TOKENS}`);
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/No module named 'Crypto'/);
    expect(r.out).toMatch(/ComfyUI could not import ComfyUI-Login .*install its requirements/);
    expect(existsSync(marker(root))).toBe(false);
  });

  it('fails for a node without token support (a commit before Bearer: no load_token)', async () => {
    const root = fakeComfy('old', `${NODE_HEAD}def check_login_status(request, handler):\n    pass\napp.middlewares.append(check_login_status)\n`);
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/has no token support: it answers API tokens with a redirect to \/login/);
    expect(existsSync(marker(root))).toBe(false);
  });

  it('fails for a node that adds no login middleware, and when the node folder is absent', async () => {
    const none = await check(fakeComfy('nomw', NODE_HEAD));
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/added no check_login_status middleware/);
    const absent = await check(fakeComfy('absent', undefined));
    expect(absent.code).toBe(1);
    expect(absent.out).toMatch(/__init__\.py is missing/);
  });
});
