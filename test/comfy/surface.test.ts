import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import { panelPaths } from '../../app/config/paths.js';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { operations } from '../../app/contract/index.js';
import type { GenerationProgress } from '../../app/contract/ops/generate.js';
import { createPanelContext } from '../../app/service/context.js';
import { generateHandlers } from '../../app/service/generate.js';
import { openVault } from '../../app/tokens/index.js';
import { pngSize, startDouble, type DoubleSetup } from './support.js';

let d: DoubleSetup;
let home: string;
beforeAll(async () => {
  d = await startDouble();
  home = await mkdtemp(path.join(tmpdir(), 'comfy-surface-'));
});
afterAll(async () => {
  await d?.close();
  await rm(home, { recursive: true, force: true });
});

describe('generate operations (service)', () => {
  it('run with the vault token, push progress, return previews; then history and status', async () => {
    const paths = panelPaths({ COMFY_PANEL_HOME: path.join(home, 'svc') });
    const config = PanelConfigSchema.parse({ comfyui: { url: d.comfy.url, timeoutMs: 3000 } });
    await openVault(config, paths).write({ current: { hash: d.hash, username: 'admin', createdAt: new Date().toISOString() } });
    const ctx = createPanelContext({ loaded: { config, path: paths.configFile, configured: true }, paths, mode: 'browser', version: 'test' });
    const events: GenerationProgress[] = [];
    ctx.bus.on('generationProgress', (p) => events.push(p));
    const h = generateHandlers(ctx);

    const result = await h.generateRun(operations.generateRun.input.parse({ workflow: 'smoke', width: 16, height: 8 }));
    expect(result.ok).toBe(true);
    expect(result.images[0]!.startsWith(path.join(paths.dataDir, 'generations'))).toBe(true);
    const preview = result.previews[0]!;
    expect(preview.dataUrl).toMatch(/^data:image\/png;base64,/);
    expect(pngSize(Buffer.from(preview.dataUrl!.split(',')[1]!, 'base64'))).toEqual({ width: 16, height: 8 });
    expect(events.at(-1)).toMatchObject({ runId: result.runId, phase: 'done', percent: 100 });
    expect(JSON.stringify(result)).not.toContain(d.hash);

    const { runs } = await h.generateHistory(operations.generateHistory.input.parse({}));
    expect(runs[0]).toMatchObject({ runId: result.runId, ok: true });
    expect(await h.generateInterrupt({})).toEqual({ interrupted: [] });
    expect(await h.comfyStatus()).toMatchObject({ ok: true, version: '0.3.64', queue: { running: 0, pending: 0 } });
  });

  it('rejects bad input at the contract', () => {
    expect(operations.generateRun.input.safeParse({ workflow: 'sdxl' }).success).toBe(false);
    expect(operations.generateRun.input.safeParse({ steps: 0 }).success).toBe(false);
  });
});

describe('comfy-panel generate (CLI)', () => {
  const saved = { home: process.env.COMFY_PANEL_HOME, token: process.env.COMFYUI_TOKEN };
  let stdout: string[];
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    for (const [k, v] of [['COMFY_PANEL_HOME', saved.home], ['COMFYUI_TOKEN', saved.token]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  async function cli(args: string[], token: string): Promise<{ code: number; json: Record<string, unknown> }> {
    const cliHome = path.join(home, 'cli');
    process.env.COMFY_PANEL_HOME = cliHome;
    process.env.COMFYUI_TOKEN = token;
    await mkdir(cliHome, { recursive: true });
    await writeFile(path.join(cliHome, 'config.json'), JSON.stringify({ comfyui: { url: d.comfy.url, timeoutMs: 3000 } }));
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.exitCode = undefined; // runCli reports process.exitCode, which a previous command may have set
    const code = await runCli(['--json', ...args]);
    return { code, json: JSON.parse(stdout.join('')) as Record<string, unknown> };
  }

  it('--json gives ok, promptId, images and timings; the image is there', async () => {
    const out = path.join(home, 'cli-out');
    const { code, json } = await cli(['generate', '--width', '20', '--height', '10', '--out', out], d.hash);
    expect(code).toBe(0);
    expect(json).toMatchObject({ ok: true, promptId: expect.any(String), timings: { queueMs: expect.any(Number), executionMs: expect.any(Number), totalMs: expect.any(Number) } });
    const images = json.images as string[];
    expect(path.dirname(images[0]!)).toBe(out);
    expect(pngSize(await readFile(images[0]!))).toEqual({ width: 20, height: 10 });
    const history = await cli(['generate-history', '--limit', '1'], d.hash);
    expect((history.json.runs as { promptId: string }[])[0]!.promptId).toBe(json.promptId);
  });

  it('exits 1 with the typed message on a wrong token, 2 on a bad workflow file', async () => {
    const bad = await cli(['generate'], 'wrong-token');
    expect(bad.code).toBe(1);
    expect(bad.json).toMatchObject({ ok: false, errorKind: 'unauthorized' });
    expect(String(bad.json.error)).toContain('not the raw password');
    const missing = await cli(['generate', '--workflow', path.join(home, 'nope.json')], d.hash);
    expect(missing.code).toBe(2);
    expect(JSON.stringify(missing.json)).toContain('nope.json: cannot read the workflow');
    const status = await cli(['comfy-status'], d.hash);
    expect(status).toMatchObject({ code: 0, json: { ok: true, version: '0.3.64' } });
  });
});
