import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, saveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../app/errors.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'cfg-'));

describe('config', () => {
  it('uses defaults and reports "not configured" when the default file is absent', async () => {
    const loaded = await loadConfig(path.join(await tmp(), 'config.json'), false);
    expect(loaded.configured).toBe(false);
    expect(loaded.config.container.name).toBe('comfyui-qwen');
    expect(loaded.config.container.bindAddress).toBe('127.0.0.1');
    expect(loaded.config.comfyui.url).toBe('http://127.0.0.1:8188');
  });

  it('fails on an explicitly named file that does not exist', async () => {
    await expect(loadConfig(path.join(await tmp(), 'nope.json'), true)).rejects.toThrow(/no such config file/);
  });

  it('names the file, line and column of a JSON syntax error', () => {
    const err = (() => {
      try {
        parseConfigText('{\n  "comfyui": {\n    "url": "http://x",,\n  }\n}', '/etc/panel.json');
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(/\/etc\/panel\.json: not valid JSON at line 3, column \d+/);
  });

  it('names each invalid field', () => {
    expect(() =>
      parseConfigText(JSON.stringify({ container: { hostPort: 70000 }, comfyui: { url: 'ftp://x' }, bogus: 1 }), 'c.json'),
    ).toThrow(/container\.hostPort[\s\S]*comfyui\.url|comfyui\.url[\s\S]*container\.hostPort/);
    expect(() => parseConfigText(JSON.stringify({ bogus: 1 }), 'c.json')).toThrow(/bogus/);
    expect(() =>
      parseConfigText(JSON.stringify({ env: { targets: [{ path: 'a/.env', dialect: 'yaml', keys: {} }] } }), 'c.json'),
    ).toThrow(/env\.targets\.0\.dialect/);
  });

  it('saves atomically with mode 0600 and a backup of the previous file', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'config.json');
    await writeFile(file, '{}\n');
    await saveConfig(file, { container: { name: 'my-comfy' } });
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.container.name).toBe('my-comfy');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { readdir } = await import('node:fs/promises');
    const backups = (await readdir(dir)).filter((f) => f.endsWith('.bak'));
    expect(backups).toHaveLength(1);
    expect(await readFile(path.join(dir, backups[0]!), 'utf8')).toBe('{}\n');
  });

  it('rejects an invalid config on save and leaves the file alone', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'config.json');
    await writeFile(file, '{"container":{"name":"keep"}}');
    await expect(saveConfig(file, { container: { hostPort: -1 } })).rejects.toThrow(/container\.hostPort/);
    expect(await readFile(file, 'utf8')).toBe('{"container":{"name":"keep"}}');
  });
});

describe('config.schema.json', () => {
  it('is up to date with the zod schema (regenerate: npx tsx scripts/config-schema.ts)', async () => {
    const { configJsonSchema } = await import('../../app/config/json-schema.js');
    const committed = JSON.parse(await readFile(path.resolve('config.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
