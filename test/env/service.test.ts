import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { operations } from '../../app/contract/index.js';
import { createPanelContext } from '../../app/service/context.js';
import { dispatch } from '../../app/service/dispatch.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { copyFixture, FIXTURE_HASH_ROOT, tempDir } from './support.js';

describe('env operations through the contract', () => {
  const tree = copyFixture();
  const home = tempDir('env-service-home-');
  afterAll(() => {
    tree.cleanup();
    home.cleanup();
  });
  const config = PanelConfigSchema.parse({ env: { root: tree.root, targets: [{ path: '.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token' } }] } });
  const paths = { configFile: path.join(home.dir, 'config.json'), dataDir: path.join(home.dir, 'data'), logDir: path.join(home.dir, 'logs') };
  const handlers = createPanelHandlers(createPanelContext({ loaded: { config, path: paths.configFile, configured: true }, paths, mode: 'browser', version: 'test' }));

  it('declares the five env operations', () => {
    expect(Object.keys(operations).filter((n) => n.startsWith('env')).sort()).toEqual(['envAudit', 'envDiff', 'envShow', 'envSyncApply', 'envSyncPreview']);
  });

  it('envAudit and envShow work under env.root; secrets stay masked unless reveal is explicit', async () => {
    const audit = (await dispatch(handlers, 'envAudit', {})) as { files: unknown[]; findings: unknown[] };
    expect(audit.files.length).toBe(6);
    expect(JSON.stringify(audit)).not.toContain(FIXTURE_HASH_ROOT);
    const shown = (await dispatch(handlers, 'envShow', { file: '.env' })) as { values: Record<string, string> };
    expect(shown.values.COMFYUI_BEARER_TOKEN).toMatch(/^••••/);
    const revealed = (await dispatch(handlers, 'envShow', { file: '.env', reveal: true })) as { values: Record<string, string> };
    expect(revealed.values.COMFYUI_BEARER_TOKEN).toBe(FIXTURE_HASH_ROOT);
  });

  it('refuses files outside env.root and bad input', async () => {
    await expect(dispatch(handlers, 'envShow', { file: '/etc/passwd' })).rejects.toThrow(/outside the env root/);
    await expect(dispatch(handlers, 'envDiff', { a: '.env', b: '../../x.env' })).rejects.toThrow(/outside the env root/);
    await expect(dispatch(handlers, 'envShow', { file: '.env', dialect: 'yaml' })).rejects.toMatchObject({ shape: { code: 'invalid-input' } });
  });

  it('envSyncPreview reports the missing vault credential without writing', async () => {
    const before = readFileSync(path.join(tree.root, '.env'), 'utf8');
    const preview = (await dispatch(handlers, 'envSyncPreview', {})) as { missing: { source: string }[]; targets: { diff: string[]; keys: { status: string }[] }[] };
    expect(preview.missing.map((m) => m.source)).toEqual(['token']);
    expect(preview.targets[0]?.keys.map((k) => k.status)).toEqual(['no-value']);
    // The file holds the token, so the sync would make it 0600: that is its only change.
    expect(preview.targets[0]?.diff).toEqual(['mode 0644 -> 0600 (it holds a secret: only its owner may read it)']);
    expect(readFileSync(path.join(tree.root, '.env'), 'utf8')).toBe(before);
  });
});
