import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, saveConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { InstanceHandlers } from '../../app/contract/index.js';
import type { CheckResult } from '../../app/contract/ops/health.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { HealthMonitor, healthChecks, historyFile } from '../../app/health/index.js';
import { createPanelContext, type PanelContext } from '../../app/service/context.js';
import { detectSetup } from '../../app/health/setup.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { envTargetLocation } from '../../app/tokens/env-location.js';
import { fingerprint } from '../../app/redact.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { requireDocker } from '../support/docker.js';
import { runCli } from '../../app/cli/main.js';
import { ensureDoubleImage } from '../support/double-image.js';

const d = await requireDocker();

type ById = Record<string, CheckResult>;

/** Runs the CLI in-process with the panel's folders under `home`, capturing stdout. */
async function cli(home: string, args: string[]): Promise<{ code: number; out: string }> {
  vi.stubEnv('COMFY_PANEL_HOME', home);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await runCli(args), out };
  } finally {
    spy.mockRestore();
    errSpy.mockRestore();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  }
}
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
  let handlers: InstanceHandlers;
  const events: CheckResult[] = [];

  const withDefaults = (c: PanelConfig): PanelConfig => ({
    ...c,
    docker: { ...c.docker, host: d.ok ? d.host : '', timeoutMs: 20_000 },
    env: { ...c.env, root: envRoot, targets: [{ path: '.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' } }] },
    health: { ...c.health, intervalSec: 3600, retries: 0, checkTimeoutMs: 8_000, probeRequests: 20 },
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

    ctx = createPanelContext({ loaded: { config: good, path: path.join(home, 'config.json'), configured: true }, paths, mode: 'browser', version: 'test' });
    handlers = createPanelHandlers(ctx);
    await ctx.health.stop(); // the tests sweep on demand
    ctx.bus.on('health', (r) => events.push(r));
    // The first-run path: adopt the container's credential, write the env target, run the smoke test.
    await handlers.tokenImport({ from: 'container' });
    const cred = (await handlers.tokenAudit({})).vault;
    expect(cred.fingerprint).toBe(fingerprint(secret.hash));
    await writeTarget(good);
    expect((await handlers.generateRun({ workflow: 'smoke' })).ok).toBe(true);
  }, 180_000);

  afterAll(async () => {
    if (ctx) await ctx.health.stop();
    await removeContainers(docker, Object.values(names));
    secret.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('a good setup: every check ok (no GPU and ComfyUI-Login\'s user-data allowlist are warnings), one health event per check', async () => {
    events.length = 0;
    const r = await sweep();
    const statuses = Object.fromEntries(Object.values(r).map((c) => [c.id, c.status]));
    expect(statuses).toEqual({ ...Object.fromEntries(healthChecks.map((c) => [c.id, 'ok'])), gpu: 'warn', 'userdata-exposure': 'warn' });
    expect(r['userdata-exposure']?.fix).toMatchObject({ failure: 'userdata-exposed', text: expect.stringMatching(/127\.0\.0\.1/) });
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

  it('an unquoted hash in a compose .env turns env-consistency red with the quoting fix', async () => {
    const deploy = path.join(envRoot, 'deploy');
    mkdirSync(deploy, { recursive: true });
    writeFileSync(path.join(deploy, 'compose.yaml'), 'services:\n  notebook:\n    image: jupyter\n    env_file: .env\n');
    // Compose drops "$" + letter as an unset variable; a salt that starts with a letter makes that certain.
    const unsafe = `$2b$12$Q${'q'.repeat(52)}`;
    writeFileSync(path.join(deploy, '.env'), `COMFYUI_BEARER_TOKEN=${unsafe}\n`);
    try {
      const r = await sweep();
      expect(red(r)).toEqual(['env-consistency']);
      expect(r['env-consistency']?.message).toMatch(/deploy\/\.env:1 COMFYUI_BEARER_TOKEN/);
      expect(r['env-consistency']?.fix?.text).toMatch(/quote/i);
      expect(r['env-consistency']?.fix?.action).toBeUndefined(); // not an env target: env sync would not touch it
      expect(JSON.stringify(r)).not.toContain(unsafe);
    } finally {
      rmSync(deploy, { recursive: true, force: true });
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
    expect(container?.history.map((p) => p.status)).toEqual(['ok', 'ok', 'ok', 'unknown', 'fail', 'fail', 'ok']);
    expect(container?.uptime24h).toBeCloseTo(66.7, 1);
    expect(status.lastCheckAt).not.toBeNull();
  });

  it('healthProbe: N concurrent requests with the vault token all succeed on a good setup', async () => {
    ctx.loaded = { ...ctx.loaded, config: good };
    const r = await handlers.healthProbe({ requests: 30 });
    expect(r).toMatchObject({ requests: 30, succeeded: 30, successRate: 100, byStatus: { '200': 30 }, errors: [] });
    expect(r.p99).toBeGreaterThanOrEqual(r.p50);
  });

  it('the CLI prints the stable --json shape, exits 0 when nothing fails and 1 when a check fails, 2 on bad usage', async () => {
    const file = path.join(home, 'cli-config.json');
    await saveConfig(file, good);
    const broken = path.join(home, 'cli-broken.json');
    await saveConfig(broken, { ...good, docker: { ...good.docker, host: `unix://${path.join(home, 'nobody.sock')}` } });
    const ok = await cli(home, ['--config', file, '--json', 'health']);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.out) as { ok: boolean; checks: Record<string, unknown>[] };
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c) => c.id)).toEqual(healthChecks.map((c) => c.id));
    for (const c of doc.checks) expect(Object.keys(c)).toEqual(['id', 'status', 'latencyMs', 'message', 'fix']);

    const bad = await cli(home, ['--config', broken, '--json', 'health']);
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.out) as { checks: { id: string; status: string }[] }).checks.find((c) => c.id === 'docker')?.status).toBe('fail');

    const probe = await cli(home, ['--config', file, '--json', 'health', 'probe', '--requests', '12']);
    expect(probe.code, probe.out).toBe(0);
    expect(JSON.parse(probe.out)).toMatchObject({ successRate: 100, byStatus: { '200': 12 }, p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) });
    expect((await cli(home, ['--config', file, 'health', 'probe', '--requests', '0'])).code).toBe(2);
    expect(ok.out + bad.out + probe.out).not.toContain(secret.hash);

    // --watch: the first sweep in full, then it waits for the next interval until SIGINT.
    const before = process.listenerCount('SIGINT');
    const watching = cli(home, ['--config', file, '--json', 'health', '--watch']);
    await expect.poll(() => process.listenerCount('SIGINT'), { timeout: 15_000 }).toBe(before + 1);
    process.emit('SIGINT');
    const watched = await watching;
    expect(watched.code).toBe(0);
    expect((JSON.parse(watched.out) as { checks: unknown[] }).checks).toHaveLength(healthChecks.length);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('setupDetect finds the engine, both double containers, the importable credentials and the .env file', async () => {
    ctx.loaded = { ...ctx.loaded, config: good };
    const r = await handlers.setupDetect({});
    expect(r.docker).toMatchObject({ ok: true, howTo: expect.stringMatching(/runs at/) });
    const mine = r.containers.filter((c) => Object.values(names).includes(c.name));
    expect(mine.map((c) => c.name).sort()).toEqual(Object.values(names).sort());
    expect(mine.find((c) => c.name === names.good)).toMatchObject({ configured: true, managed: true, adopted: false, state: 'running', ports: [expect.objectContaining({ containerPort: 8188, hostPort: good.container.hostPort })] });
    const fp = fingerprint(secret.hash);
    expect(r.credentialSources).toContainEqual({ source: `container:${names.good}`, kind: 'container', container: names.good, fingerprint: fp });
    expect(r.credentialSources).toContainEqual({ source: 'env:.env#COMFYUI_BEARER_TOKEN', kind: 'env', file: path.join(envRoot, '.env'), key: 'COMFYUI_BEARER_TOKEN', fingerprint: fp });
    expect(r.envFiles).toEqual(['.env']);
    expect(JSON.stringify(r)).not.toContain(secret.hash);

    const down = await detectSetup({ ...good, docker: { ...good.docker, host: `unix://${path.join(home, 'nobody.sock')}` } }, ctx.loaded.path);
    expect(down.docker.ok).toBe(false);
    expect(down.docker.howTo.length).toBeGreaterThan(10);
    expect(down.skipped.map((s) => s.step)).toContain('containers');
  });

  it('setupApply writes a valid config file through configSave, keeping what was not chosen', async () => {
    const view = await handlers.setupApply({ choices: { containerName: names.open, hostPort: open.container.hostPort, comfyuiUrl: open.comfyui.url } });
    expect(view.configured).toBe(true);
    const reread = await loadConfig(ctx.loaded.path, true);
    expect(reread.config.container).toMatchObject({ name: names.open, hostPort: open.container.hostPort, image: good.container.image });
    expect(reread.config.comfyui.url).toBe(open.comfyui.url);
    expect(reread.config.env.root).toBe(envRoot);
    await expect(handlers.setupApply({ choices: { comfyuiUrl: 'ftp://nope' } })).rejects.toThrow();
  });
});
