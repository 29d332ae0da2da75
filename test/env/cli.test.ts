import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import { copyFixture, FIXTURE_HASH_ROOT, read, tempDir } from './support.js';

describe('comfy-panel env (CLI, --json)', () => {
  const tree = copyFixture();
  const home = tempDir('env-cli-home-');
  const config = path.join(home.dir, 'config.json');
  const saved = process.env.COMFY_PANEL_HOME;

  beforeAll(() => {
    process.env.COMFY_PANEL_HOME = home.dir;
    const env = { root: tree.root, targets: [{ path: 'notebooks/client.env', dialect: 'dotenv', keys: { COMFYUI_URL: 'url', COMFYUI_BEARER_TOKEN: 'token' } }] };
    writeFileSync(config, JSON.stringify({ comfyui: { url: 'http://127.0.0.1:8190' }, env }));
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = saved;
    tree.cleanup();
    home.cleanup();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the CLI's JSON its own way
  async function cli(args: string[]): Promise<{ code: number; json: any; text: string }> {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await runCli(['--json', '--config', config, ...args]);
      return { code, json: JSON.parse(out.join('')), text: out.join('') };
    } finally {
      vi.restoreAllMocks();
    }
  }

  it('env audit: files and findings with stable fields; exit 1 on error findings', async () => {
    const { code, json, text } = await cli(['env', 'audit']);
    expect(code).toBe(1);
    expect(json.files.map((f: { file: string }) => f.file)).toContain('comfyui/.env');
    expect(json.findings).toContainEqual(expect.objectContaining({ file: 'comfyui/.env', line: 3, key: 'COMFYUI_BEARER_TOKEN', kind: 'compose-unsafe', severity: 'error', message: expect.any(String), fix: expect.any(String) }));
    expect(text).not.toContain(FIXTURE_HASH_ROOT);
  });

  it('env audit --root on a clean folder: exit 0', async () => {
    const clean = tempDir('env-cli-clean-');
    try {
      writeFileSync(path.join(clean.dir, '.env'), "A=1\nTOKEN='x'\n");
      const { code, json } = await cli(['env', 'audit', '--root', clean.dir]);
      expect(code).toBe(0);
      expect(json.findings).toEqual([]);
    } finally {
      clean.cleanup();
    }
  });

  it('env show: values masked unless --reveal; a malformed file gives compose\'s message and line, exit 1', async () => {
    const shown = await cli(['env', 'show', path.join(tree.root, 'notebooks/client.env')]);
    expect(shown.code).toBe(0);
    expect(shown.json.values.COMFYUI_BEARER_TOKEN).toMatch(/^•••• \(60 chars, fp:/);
    const revealed = await cli(['env', 'show', path.join(tree.root, 'notebooks/client.env'), '--reveal']);
    expect(revealed.json.values.COMFYUI_BEARER_TOKEN).toBe(FIXTURE_HASH_ROOT);
    const bad = await cli(['env', 'show', path.join(tree.root, 'comfyui/.env.local')]);
    expect(bad.code).toBe(1);
    expect(bad.json.error).toEqual({ message: "line 4: unterminated quoted value 'never closed", line: 4 });
    const asRaw = await cli(['env', 'show', path.join(tree.root, 'comfyui/.env.local'), '--dialect', 'raw']);
    expect(asRaw.json.values).toEqual({ A: '1', BROKEN: "'never closed" });
  });

  it('env diff: {onlyA, onlyB, changed, same}, masked unless --reveal', async () => {
    const { code, json } = await cli(['env', 'diff', path.join(tree.root, '.env'), path.join(tree.root, 'comfyui/.env')]);
    expect(code).toBe(0);
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['onlyA', 'onlyB', 'changed', 'same']));
    expect(json.changed.find((c: { key: string }) => c.key === 'COMFYUI_BEARER_TOKEN').a).toMatch(/^••••/);
  });

  it('env sync without a vault credential: token keys reported, URL written, exit 1', async () => {
    const target = path.join(tree.root, 'notebooks/client.env');
    const before = read(target);
    const dry = await cli(['env', 'sync', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.json.missing).toEqual([{ source: 'token', reason: expect.stringContaining('no credential in the vault yet') }]);
    expect(read(target)).toBe(before);
    const applied = await cli(['env', 'sync']);
    expect(applied.code).toBe(1);
    expect(applied.json.verified).toBe(true);
    expect(read(target)).toBe(before.replace('COMFYUI_URL=http://127.0.0.1:8188', 'COMFYUI_URL=http://127.0.0.1:8190'));
  });
});
