import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'fleet-cli-'));
const saved = process.env.COMFY_PANEL_HOME;
beforeAll(() => {
  process.env.COMFY_PANEL_HOME = home;
  // Engines and servers nobody answers on: nothing real is touched.
  const instance = (id: string, port: number) => ({ id, docker: { host: `unix://${home}/${id}.sock`, timeoutMs: 300 }, comfyui: { url: 'http://127.0.0.1:9', timeoutMs: 300 }, container: { name: `fleet-${id}`, hostPort: port } });
  writeFileSync(path.join(home, 'config.json'), JSON.stringify({ instances: [instance('a', 18101), instance('b', 18102), instance('c', 18103)] }));
});
afterAll(() => {
  if (saved === undefined) delete process.env.COMFY_PANEL_HOME;
  else process.env.COMFY_PANEL_HOME = saved;
  rmSync(home, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    const code = await runCli(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

describe('the CLI over a fleet', () => {
  it('--instance picks the instance a command acts on; its data folder is its own', async () => {
    const r = await cli(['--json', '--instance', 'b', 'config', 'path']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ instance: 'b', dataDir: path.join(home, 'data', 'instances', 'b') });
    const first = JSON.parse((await cli(['--json', 'config', 'path'])).stdout) as { instance: string };
    expect(first.instance).toBe('a');
  });

  it('--all runs the command for every instance and prints one document with each one\'s fields or error', async () => {
    const r = await cli(['--all', '--json', 'config', 'path']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { instances: { id: string; dataDir: string }[] };
    expect(doc.instances.map((i) => [i.id, i.dataDir])).toEqual(['a', 'b', 'c'].map((id) => [id, path.join(home, 'data', 'instances', id)]));
    // Each engine is down: every row says so with the command's own fields, and the exit code tells.
    const s = await cli(['--all', '--json', 'container', 'status']);
    expect(s.code).toBe(1);
    const rows = (JSON.parse(s.stdout) as { instances: { id: string; ok: boolean; name: string; reasons: string[] }[] }).instances;
    expect(rows.map((i) => [i.id, i.name, i.ok])).toEqual(['a', 'b', 'c'].map((id) => [id, `fleet-${id}`, false]));
    for (const row of rows) expect(row.reasons.join(' ')).toContain(`${home}/${row.id}.sock`);
    // A command that throws: its row carries the error, the others their fields.
    const g = await cli(['--all', '--json', 'env', 'show', 'missing.env']);
    expect(g.code).toBeGreaterThan(0);
    const errs = (JSON.parse(g.stdout) as { instances: { id: string; error?: { message: string; code: string } }[] }).instances;
    expect(errs.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    for (const row of errs) expect(row.error?.message).toMatch(/missing\.env/);
    // Human output: one section per instance.
    const h = await cli(['--all', 'config', 'path']);
    expect(h.stdout).toMatch(/== a ==[\s\S]*== b ==[\s\S]*== c ==/);
  });

  it('refuses an unknown instance naming the ones there are, and --all with --instance', async () => {
    const r = await cli(['--json', '--instance', 'zz', 'config', 'path']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { message: expect.stringContaining('a, b, c'), fix: expect.stringContaining('--instance a') } });
    expect((await cli(['--json', '--all', '--instance', 'a', 'config', 'path'])).code).toBe(2);
    expect((await cli(['--json', 'token', 'rotate', '--canary', 'a'])).code).toBe(2);
  });

  it('token rotate --all is one staged rotation: it halts at the canary that fails and leaves the others', async () => {
    const r = await cli(['--json', 'token', 'rotate', '--all', '--canary', 'b', '--wave', '2']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { halted: boolean; haltedAt: string; instances: { id: string; outcome: string; error?: string }[] };
    expect(doc).toMatchObject({ halted: true, haltedAt: 'b' });
    expect(doc.instances.map((i) => [i.id, i.outcome])).toEqual([
      ['b', 'failed'],
      ['a', 'not-started'],
      ['c', 'not-started'],
    ]);
    expect(doc.instances[0]!.error).toMatch(/credential|token init/i);
    expect((await cli(['--json', 'token', 'rotate', '--all', '--wave', 'many'])).code).toBe(2);
  });
});
