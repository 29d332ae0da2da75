import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDouble, type DoubleSetup } from '../comfy/support.js';

const CLI = path.resolve('test/tokens/fixtures/cli.ts');
const WAIT = path.resolve('test/cli/fixtures/wait-deadline.ts');

interface Exit {
  code: number | null;
  out: string;
  ms: number;
}

/** A script in its own process, as the CLI runs: only its own handles keep it alive. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, ms: performance.now() - started }));
  });
}

describe('a deadline keeps the process alive until it fires, and no longer', () => {
  it('work that waits on nothing but its deadline ends with a TimeoutError, not exit 13', async () => {
    // With AbortSignal.timeout the loop drains at once: "unsettled top-level await", exit 13.
    const r = await run(WAIT, ['700']);
    expect(r, r.out).toMatchObject({ code: 4, out: 'TimeoutError' });
    expect(r.ms).toBeGreaterThanOrEqual(700);
  });

  let home: string;
  let silent: net.Server;
  let double: DoubleSetup;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'cli-deadline-'));
    // Accepts the connection and never answers: a published port whose ComfyUI is still starting.
    silent = net.createServer((s) => void sockets.add(s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    double = await startDouble();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
    await double.close();
    rmSync(home, { recursive: true, force: true });
  });

  const comfyStatus = (url: string, timeoutMs: number) => {
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({ docker: { host: `unix://${home}/no.sock` }, comfyui: { url, timeoutMs } }));
    return run(CLI, ['comfy-status'], { COMFY_PANEL_HOME: home, COMFYUI_TOKEN: double.hash });
  };

  it('`comfy-status` against a server that never answers exits with its own code once the deadline passes', async () => {
    const { port } = silent.address() as net.AddressInfo;
    const r = await comfyStatus(`http://127.0.0.1:${port}`, 1500);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/within 1500 ms/);
    // Start-up (tsx compiling the CLI) is a few seconds on a busy host; a deadline held past its settle would add 1.5 s more per request.
    expect(r.ms).toBeGreaterThanOrEqual(1500);
    expect(r.ms).toBeLessThan(1500 + 10_000);
  });

  it('`comfy-status` against a server that answers exits at once, not when the deadlines would have fired', async () => {
    const r = await comfyStatus(double.comfy.url, 60_000);
    expect(r.code, r.out).toBe(0);
    expect(r.ms).toBeLessThan(30_000);
  });
});
