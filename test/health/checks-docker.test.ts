import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { PanelHandlers } from '../../app/contract/index.js';
import type { CheckResult } from '../../app/contract/ops/health.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { HealthMonitor, healthChecks, historyFile } from '../../app/health/index.js';
import { EventBus } from '../../app/service/bus.js';
import type { PanelContext } from '../../app/service/context.js';
import { healthMonitorOf } from '../../app/service/health.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { envTargetLocation } from '../../app/tokens/env-location.js';
import { fingerprint } from '../../app/redact.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';

const d = await requireDocker();

type ById = Record<string, CheckResult>;
const red = (r: ById) =>
  Object.values(r)
    .filter((c) => c.status === 'fail')
    .map((c) => c.id)
    .sort();

describe.skipIf(!d.ok)('health checks against the ComfyUI double container', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const secret = makeSecret('health');
  const home = mkdtempSync(path.join(os.tmpdir(), 'health-home-'));
  const envRoot = path.join(home, 'project');
  const paths = panelPaths({ COMFY_PANEL_HOME: home });
  const names = { good: uniqueName('health'), open: uniqueName('health') };
  let good: PanelConfig;
  let open: PanelConfig;
  let manager: ContainerManager;
  let ctx: PanelContext;
  let handlers: PanelHandlers;
  const events: CheckResult[] = [];

  const withDefaults = (c: PanelConfig): PanelConfig => ({
    ...c,
    docker: { ...c.docker, host: d.ok ? d.host : '', timeoutMs: 20_000 },
    env: { ...c.env, root: envRoot, targets: [{ path: '.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' } }] },
    health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 8_000, probeRequests: 20 },
  });

  /** Writes the env target as the panel would, for this config's server URL. */
  const writeTarget = (config: PanelConfig) =>
    envTargetLocation(config.env.targets[0]!, envRoot, config.comfyui.url).write({ hash: secret.hash, username: 'qwen', createdAt: new Date().toISOString() });

  async function sweep(config: PanelConfig = good): Promise<ById> {
    ctx.loaded = { ...ctx.loaded, config };
    const s = await handlers.healthRun({});
    return Object.fromEntries(s.checks.map((c) => [c.id, c]));
  }

  beforeAll(async () => {
    const image = await ensureDoubleImage(docker);
    good = withDefaults(testConfig({ name: names.good, image, hostPort: await freePort(), secretFile: secret.file }));
    // An image without ComfyUI-Login, started by someone who switched the entrypoint guard off.
    const openCreate = withDefaults(testConfig({ name: names.open, image, hostPort: await freePort(), secretFile: secret.file, command: ['--no-login'], extra: { authRequired: false } }));
    open = { ...openCreate, container: { ...openCreate.container, authRequired: true } };
    manager = new ContainerManager(good);
    const openManager = new ContainerManager(openCreate);
    await manager.start();
    await openManager.start();
    await Promise.all([manager.waitFor('healthy', 30_000), openManager.waitFor('healthy', 30_000)]);

    ctx = { loaded: { config: good, path: path.join(home, 'config.json'), configured: true }, paths, mode: 'browser', version: 'test', bus: new EventBus() };
    handlers = createPanelHandlers(ctx);
    await healthMonitorOf(ctx).stop(); // the tests sweep on demand
    ctx.bus.on('health', (r) => events.push(r));
    // The first-run path: adopt the container's credential, write the env target, run the smoke test.
    await handlers.tokenImport({ from: 'container' });
    const cred = (await handlers.tokenAudit({})).vault;
    expect(cred.fingerprint).toBe(fingerprint(secret.hash));
    await writeTarget(good);
    expect((await handlers.generateRun({ workflow: 'smoke' })).ok).toBe(true);
  }, 180_000);

  afterAll(async () => {
    if (ctx) await healthMonitorOf(ctx).stop();
    await removeContainers(docker, Object.values(names));
    secret.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('a good setup: every check ok (no GPU is a warning on this CPU box), one health event per check', async () => {
    events.length = 0;
    const r = await sweep();
    const statuses = Object.fromEntries(Object.values(r).map((c) => [c.id, c.status]));
    expect(statuses).toEqual({ ...Object.fromEntries(healthChecks.map((c) => [c.id, 'ok'])), gpu: 'warn' });
    expect(r.gpu?.message).toMatch(/no GPU/);
    expect(r['login-node']?.message).toMatch(/installed, loaded and enforced/);
    expect(r['auth-accepts-token']?.message).toContain(fingerprint(secret.hash));
    expect(r['comfyui-version']?.message).toMatch(/ComfyUI \d+\.\d+\.\d+/);
    expect(r.generation?.message).toMatch(/succeeded/);
    expect(events.map((e) => e.id).sort()).toEqual(healthChecks.map((c) => c.id).sort());
    expect(JSON.stringify(r)).not.toContain(secret.hash);
  });

  it('a stale token in an env target turns token-consistency red with the unify fix', async () => {
    const target = path.join(envRoot, '.env');
    const stale = `$2b$04$${'S'.repeat(53)}`;
    writeFileSync(target, `COMFYUI_BEARER_TOKEN='${stale}'\nCOMFYUI_URL=${good.comfyui.url}\n`);
    try {
      const r = await sweep();
      expect(red(r)).toEqual(['token-consistency']);
      expect(r['token-consistency']?.message).toContain(`env:.env mismatch (${fingerprint(stale)})`);
      expect(r['token-consistency']?.fix).toMatchObject({ action: 'tokenUnify', input: { to: fingerprint(secret.hash) } });
    } finally {
      await writeTarget(good);
    }
  });

  it('a Docker socket nobody listens on turns only the docker check red', async () => {
    const r = await sweep({ ...good, docker: { ...good.docker, host: `unix://${path.join(home, 'nobody.sock')}`, timeoutMs: 2_000 } });
    expect(red(r)).toEqual(['docker']);
    expect(r.docker?.fix?.text).toBeTruthy();
    for (const id of ['container', 'docker-health', 'login-node', 'gpu']) expect(r[id]?.status).toBe('unknown');
    expect(r['auth-accepts-token']?.status).toBe('ok'); // ComfyUI itself still answers
  });

  it('a stopped container turns the container check red with the start action', async () => {
    await manager.stop();
    const r = await sweep();
    expect(red(r)).toEqual(['container']);
    expect(r.container?.message).toMatch(/is stopped/);
    expect(r.container?.fix?.action).toBe('containerStart');
    expect(r['auth-rejects-anonymous']?.status).toBe('unknown');
    await manager.start();
    await manager.waitFor('healthy', 30_000);
  });

  it('a crash (ComfyUI killed inside) turns the container check red as crashed', async () => {
    await manager.exec(['node', '-e', "process.kill(Number(require('fs').readFileSync('/tmp/comfyui.pid','utf8')),'SIGKILL')"]);
    await manager.waitFor('crashed', 15_000);
    const r = await sweep();
    expect(red(r)).toEqual(['container']);
    expect(r.container?.message).toMatch(/crashed \(exit code 137/);
    expect(r.container?.fix).toMatchObject({ action: 'containerStart', text: expect.stringMatching(/log/) });
    await manager.start();
    await manager.waitFor('healthy', 30_000);
  });

  it('a server without ComfyUI-Login turns login-node (naming the false fact) and auth-rejects-anonymous red', async () => {
    await writeTarget(open);
    const r = await sweep(open);
    await writeTarget(good);
    expect(red(r)).toEqual(['auth-rejects-anonymous', 'login-node']);
    expect(r['login-node']?.message).toMatch(/^ComfyUI-Login is not installed/);
    expect(r['login-node']?.fix?.action).toBe('containerBuild');
    expect(r['auth-rejects-anonymous']?.message).toMatch(/without a token/);
  });

  it('the history survives a restart: a new monitor reads the strip and uptime back', async () => {
    const reborn = new HealthMonitor({ checks: healthChecks, historyFile: historyFile(paths), deps: () => ({ config: good, paths, configFile: ctx.loaded.path }) });
    const status = await reborn.status();
    const container = status.checks.find((c) => c.id === 'container');
    expect(container?.history.map((p) => p.status)).toEqual(['ok', 'ok', 'unknown', 'fail', 'fail', 'ok']);
    expect(container?.uptime24h).toBe(60);
    expect(status.lastCheckAt).not.toBeNull();
  });
});
