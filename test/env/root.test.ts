import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema, type PanelConfig } from '../../app/config/schema.js';
import { envScope, resolveEnvRoot, scopeAt } from '../../app/env/index.js';
import { planPanelSync } from '../../app/env/sources.js';
import { envConsistencyCheck } from '../../app/health/checks/env-consistency.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { dispatch } from '../../app/service/dispatch.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { createPanelContext } from '../../app/service/context.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { tempDir } from './support.js';

describe('resolveEnvRoot: one rule for the env root', () => {
  it('env.root when set (relative to the config file\'s folder), else the config file\'s folder; never the working folder', () => {
    expect(resolveEnvRoot({}, '/srv/comfy/panel.json')).toBe('/srv/comfy');
    expect(resolveEnvRoot({ root: '/data/project' }, '/srv/comfy/panel.json')).toBe('/data/project');
    expect(resolveEnvRoot({ root: 'project' }, '/srv/comfy/panel.json')).toBe('/srv/comfy/project');
    expect(resolveEnvRoot({ root: '../other' }, '/srv/comfy/panel.json')).toBe('/srv/other');
    expect(resolveEnvRoot({}, '/srv/comfy/panel.json')).not.toBe(process.cwd());
  });

  it('envScope resolves every target from that root; scopeAt keeps only the targets inside another folder', () => {
    const scope = envScope({ root: 'p', targets: [{ path: '.env', dialect: 'compose', keys: {} }, { path: '/elsewhere/x.env', dialect: 'raw', keys: {} }, { path: 'nb/.env', dialect: 'dotenv', keys: {} }] }, '/srv/c/config.json');
    expect([...scope.targets]).toEqual([
      ['/srv/c/p/.env', 'compose'],
      ['/elsewhere/x.env', 'raw'],
      ['/srv/c/p/nb/.env', 'dotenv'],
    ]);
    expect(scopeAt(scope, '/srv/c/p')).toBe(scope);
    expect([...scopeAt(scope, '/srv/c/p/nb').targets]).toEqual([['/srv/c/p/nb/.env', 'dotenv']]);
    expect([...scopeAt(scope, '/tmp/x').targets]).toEqual([]);
  });
});

describe('sync, rotation, audit and health agree on the same files with env.root unset', () => {
  const t = tempDir('env-root-agree-');
  afterAll(() => t.cleanup());
  // The config lives in its own folder; the process runs elsewhere (the repository).
  const configDir = path.join(t.dir, 'deploy');
  const configFile = path.join(configDir, 'panel.json');
  const paths = { configFile: path.join(t.dir, 'home', 'config.json'), dataDir: path.join(t.dir, 'home', 'data'), logDir: path.join(t.dir, 'home', 'logs') };
  const config: PanelConfig = PanelConfigSchema.parse({
    env: {
      targets: [
        { path: '.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' } },
        { path: 'notebooks/.env', dialect: 'dotenv', keys: { COMFYUI_API_TOKEN: 'token' } },
      ],
    },
  });
  mkdirSync(path.join(configDir, 'notebooks'), { recursive: true });
  writeFileSync(configFile, JSON.stringify(config));
  writeFileSync(path.join(configDir, '.env'), 'COMFYUI_URL=http://127.0.0.1:8188\n');
  writeFileSync(path.join(configDir, 'notebooks', '.env'), 'OTHER=1\n');
  const expected = [path.join(configDir, '.env'), path.join(configDir, 'notebooks', '.env')];

  it('the root is the config file\'s folder, not the working folder', () => {
    expect(process.cwd()).not.toBe(configDir);
    expect(resolveEnvRoot(config.env, configFile)).toBe(configDir);
  });

  it('env sync plans exactly those files', async () => {
    const plan = await planPanelSync(config, paths, configFile);
    expect(plan.items.map((i) => i.path)).toEqual(expected);
  });

  it('the rotation reads and writes exactly those files', async () => {
    // A real Docker client whose engine is absent: the container location is unreadable, the env ones are read for real.
    const docker = new Dockerode({ socketPath: path.join(t.dir, 'no-engine.sock') });
    const actions = tokenActions(config, paths, { actor: 'cli:test@host', configFile, docker, server: { restart: async () => {}, waitHealthy: async () => {}, probe: async () => ({ status: 401, latencyMs: 0 }) } });
    const audit = await actions.audit();
    expect(audit.locations.filter((l) => l.name.startsWith('env:')).map((l) => l.path)).toEqual(expected);
  });

  it('env audit (through the contract) and the health check audit exactly those files as the configured targets', async () => {
    const handlers = createPanelHandlers(createPanelContext({ loaded: { config, path: configFile, configured: true }, paths, mode: 'browser', version: 'test' }));
    const audit = (await dispatch(handlers, 'envAudit', {})) as { root: string; files: { path: string; dialectSource: string }[] };
    expect(audit.root).toBe(configDir);
    expect(audit.files.filter((f) => f.dialectSource === 'config').map((f) => f.path)).toEqual(expected);
    const ctx = new SweepContext({ config, paths, configFile });
    expect(ctx.envRoot).toBe(configDir);
    const result = await envConsistencyCheck.run(ctx);
    expect(result.message).toContain(`under ${configDir}`);
  });

  it('env audit --root elsewhere leaves the configured targets out instead of comparing them with that folder', async () => {
    // A URL that differs from the configured target's: pulled in together, they would conflict.
    const other = path.join(configDir, 'other');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, '.env'), 'COMFYUI_URL=http://10.0.0.1:1\n');
    const handlers = createPanelHandlers(createPanelContext({ loaded: { config, path: configFile, configured: true }, paths, mode: 'browser', version: 'test' }));
    const audit = (await dispatch(handlers, 'envAudit', { root: 'other' })) as { files: { path: string }[]; findings: { kind: string }[] };
    expect(audit.files.map((f) => f.path)).toEqual([path.join(other, '.env')]);
    expect(audit.findings.filter((f) => f.kind === 'conflict')).toEqual([]);
    // The whole root does compare them.
    const whole = (await dispatch(handlers, 'envAudit', {})) as { findings: { kind: string }[] };
    expect(whole.findings.filter((f) => f.kind === 'conflict')).toHaveLength(2);
  });
});
