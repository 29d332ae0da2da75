import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRoot, writePassword } from './helpers.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** Runs `npm run comfy-double`'s script (tsx) and resolves with its URL once it listens. */
function launch(args: string[], env: Record<string, string> = {}): { child: ChildProcess; url: Promise<string>; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/comfy-double/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const url = new Promise<string>((ok, fail) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /To see the GUI go to: (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => fail(new Error(`exited ${code} before listening:\n${out}`)));
  });
  const exit = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, url, output: () => out, exit };
}

describe('npm run comfy-double', () => {
  it('serves with the login node from --dir and closes on SIGTERM with exit 0', async () => {
    const dir = tempRoot();
    roots.push(dir);
    const hash = writePassword(dir, 'cli password');
    const run = launch(['--port', '0', '--dir', dir, '--sampler-ms', '5']);
    const url = await run.url;
    expect((await fetch(`${url}/system_stats`)).status).toBe(401);
    expect((await fetch(`${url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } })).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.output()).toContain(`For direct API calls, use token=${hash}`);
    expect(run.output()).toMatch(/"GET \/system_stats HTTP\/1\.1" 401 /);
  });

  it('--no-login serves without auth; SIGINT closes it', async () => {
    const dir = tempRoot();
    roots.push(dir);
    const run = launch(['--port', '0', '--dir', dir, '--no-login', '--host', '127.0.0.1']);
    expect((await fetch(`${await run.url}/queue`)).status).toBe(200);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  });

  it('selects the modes by flag (--login-node-version, --enable-cors-header) or environment (COMFY_DOUBLE_LOGIN_IMPORT_FAILED=1)', { timeout: 120_000 }, async () => {
    const dir = tempRoot();
    roots.push(dir);
    const hash = writePassword(dir, 'cli password');
    const pre = launch(['--port', '0', '--dir', dir, '--login-node-version', 'pre-token']);
    const bearer = await fetch(`${await pre.url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` }, redirect: 'manual' });
    expect([bearer.status, bearer.headers.get('location')]).toEqual([302, '/login']);
    pre.child.kill('SIGTERM');
    expect(await pre.exit).toBe(0);
    const cors = launch(['--port', '0', '--dir', dir, '--login-node-version', 'current', '--enable-cors-header', 'http://ui.example']);
    expect((await fetch(`${await cors.url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } })).status).toBe(401);
    cors.child.kill('SIGTERM');
    expect(await cors.exit).toBe(0);
    const failed = launch(['--port', '0', '--dir', dir], { COMFY_DOUBLE_LOGIN_IMPORT_FAILED: '1' });
    expect((await fetch(`${await failed.url}/system_stats`)).status).toBe(200);
    failed.child.kill('SIGTERM');
    expect(await failed.exit).toBe(0);
    expect(failed.output()).toContain('(IMPORT FAILED)');
  });

  it('rejects a bad option value with a usage error', async () => {
    const run = launch(['--port', 'eighty', '--dir', '/tmp']);
    expect(await run.exit).not.toBe(0);
    expect(run.output()).toContain("option '--port <n>' argument 'eighty' is invalid");
    await expect(run.url).rejects.toThrow(/exited/);
  });
});
