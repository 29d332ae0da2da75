import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli-run.js';
import { startDouble } from '../comfy/support.js';

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
    expect(JSON.parse((await cli(['--json', '--all', 'health', '--watch'])).stdout)).toMatchObject({ error: { code: 'usage', message: expect.stringContaining('keeps running') } });
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

describe('fleet commands', () => {
  it('fleet workflow names what each instance lacks; fleet status gives a row per instance', async () => {
    const [full, bare] = await Promise.all([startDouble(), startDouble()]);
    try {
      await full.installQwenModels();
      const file = path.join(home, 'doubles.json');
      // COMFYUI_TOKEN is not read here: each instance's token comes from its vault; these have none, so the login node refuses.
      writeFileSync(file, JSON.stringify({ instances: [
        { id: 'full', comfyui: { url: full.comfy.url }, container: { name: 'fleet-full', hostPort: 18201 }, docker: { host: `unix://${home}/x.sock` } },
        { id: 'bare', comfyui: { url: bare.comfy.url }, container: { name: 'fleet-bare', hostPort: 18202 }, docker: { host: `unix://${home}/x.sock` } },
      ] }));
      const st = await cli(['--json', '--config', file, 'fleet', 'status']);
      const rows = (JSON.parse(st.stdout) as { instances: { id: string; error?: string; tokenCreatedAt: string | null }[] }).instances;
      expect(rows.map((r) => [r.id, r.tokenCreatedAt])).toEqual([['full', null], ['bare', null]]);
      for (const r of rows) expect(r.error).toMatch(/authentic/i);
      expect(st.code).toBe(1);
      // Without a credential the matrix cannot be read: each row says why.
      const noToken = JSON.parse((await cli(['--json', '--config', file, 'fleet', 'workflow', 'qwen'])).stdout) as { instances: { id: string; ok: boolean; error?: string }[] };
      expect(noToken.instances.every((i) => !i.ok && /authentic|401|token/i.test(i.error ?? ''))).toBe(true);
      // With each instance's token in its vault, the matrix names the missing files.
      for (const [id, d] of [['full', full], ['bare', bare]] as const) {
        writeFileSync(path.join(home, `${id}.env`), `T='${d.hash}'\n`);
        expect((await cli(['--json', '--config', file, '--instance', id, 'token', 'import', '--from-env', `${path.join(home, `${id}.env`)}:T`])).code).toBe(0);
      }
      const r = await cli(['--json', '--config', file, 'fleet', 'workflow', 'qwen', '--min-vram-mb', '1']);
      expect(r.code).toBe(1);
      const m = JSON.parse(r.stdout) as { requirements: { models: unknown[] }; instances: { id: string; ok: boolean; missingModels: { file: string }[]; error?: string }[] };
      expect(m.requirements.models).toHaveLength(3);
      expect(m.instances.map((i) => [i.id, i.ok, i.missingModels.length, i.error])).toEqual([['full', true, 0, undefined], ['bare', false, 3, undefined]]);
      expect((await cli(['--config', file, 'fleet', 'workflow', 'qwen'])).stdout).toMatch(/bare\s+NO\s+diffusion_models\/qwen_image/);
    } finally {
      await Promise.all([full.close(), bare.close()]);
    }
  });
});
