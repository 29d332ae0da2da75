import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { LogLine } from '../../app/contract/events.js';
import type { ContainerState } from '../../app/contract/ops/container.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { createPanelContext } from '../../app/service/context.js';
import { containerHandlers } from '../../app/service/container.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const d = await requireDocker();

// Generous limits: containers start slowly on a loaded machine (waits end as soon as the state is reached).
describe.skipIf(!d.ok)('container CLI commands and service operations', { timeout: 180_000 }, () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const home = mkdtempSync(path.join(os.tmpdir(), 'docker-cli-'));
  const secret = makeSecret('docker-cli');
  const names = { cli: uniqueName('docker-cli'), svc: uniqueName('docker-svc') };
  let cliConfig: PanelConfig;
  let svcConfig: PanelConfig;
  const savedHome = process.env.COMFY_PANEL_HOME;

  beforeAll(async () => {
    const image = await ensureDoubleImage(docker);
    const dockerSection = { host: d.ok ? d.host : '', timeoutMs: 5000 };
    cliConfig = { ...testConfig({ name: names.cli, image, hostPort: await freePort(), secretFile: secret.file }), docker: dockerSection };
    svcConfig = { ...testConfig({ name: names.svc, image, hostPort: await freePort(), secretFile: secret.file }), docker: dockerSection };
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  afterAll(async () => {
    if (savedHome === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = savedHome;
    await removeContainers(docker, Object.values(names));
    rmSync(home, { recursive: true, force: true });
    secret.cleanup();
  });

  async function cli(args: string[], config: unknown = cliConfig): Promise<{ code: number; out: string }> {
    process.env.COMFY_PANEL_HOME = home;
    writeFileSync(path.join(home, 'config.json'), JSON.stringify(config));
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.exitCode = undefined;
    const code = await runCli(['--json', ...args]);
    vi.restoreAllMocks();
    return { code, out: out.join('') };
  }

  it('up waits until ComfyUI answers, protected; status --json has state, health, image, ports and the login-node facts', async () => {
    const up = await cli(['container', 'up']);
    expect(up.code, up.out).toBe(0);
    // up returns once ComfyUI answers and ComfyUI-Login protects it, not at Docker's next healthcheck run.
    expect(JSON.parse(up.out)).toMatchObject({ name: names.cli, ok: true, reasons: [] });
    await new ContainerManager(cliConfig).waitFor('healthy', 60_000);
    const st = await cli(['container', 'status']);
    expect(st.code).toBe(0);
    const json = JSON.parse(st.out);
    expect(json).toMatchObject({
      state: 'healthy',
      health: 'healthy',
      image: cliConfig.container.image,
      ports: [expect.objectContaining({ containerPort: 8188, hostPort: cliConfig.container.hostPort })],
      loginNode: { installed: { value: true }, loaded: { value: true }, enforced: { value: true } },
      ok: true,
    });
  });

  it('logs --json prints one redacted JSON line per log line', async () => {
    const r = await cli(['container', 'logs', '--tail', '100']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as LogLine);
    expect(lines.find((l) => l.text.includes('use token='))?.text).toMatch(/token=\[redacted fp:/);
    expect(r.out).not.toContain(secret.hash);
  });

  it('recreate with an unchanged config changes nothing; down stops; status then exits 1', async () => {
    expect(JSON.parse((await cli(['container', 'recreate'])).out)).toMatchObject({ recreated: false, changes: [] });
    const down = await cli(['container', 'down']);
    expect(JSON.parse(down.out)).toMatchObject({ phase: 'stopped' });
    const st = await cli(['container', 'status']);
    expect(st.code).toBe(1);
    expect(JSON.parse(st.out)).toMatchObject({ state: 'stopped', ok: false });
  });

  it('status against an engine that is not there exits 1 with the classified problem', async () => {
    const st = await cli(['container', 'status'], { ...cliConfig, docker: { host: `unix://${path.join(home, 'no.sock')}`, timeoutMs: 1000 } });
    expect(st.code).toBe(1);
    expect(JSON.parse(st.out).problem.kind).toMatch(/daemon-not-running|engine-not-installed/);
  });

  it('a bad --tail is a usage error (exit 2)', async () => {
    expect((await cli(['container', 'logs', '--tail', 'lots'])).code).toBe(2);
  });

  it('service: operations push containerState events and followed log lines on the bus', async () => {
    const ctx = createPanelContext({ loaded: { config: svcConfig, path: path.join(home, 'svc.json'), configured: true }, paths: { configFile: '', dataDir: home, logDir: home }, mode: 'browser', version: 'test' });
    const states: ContainerState[] = [];
    const logs: LogLine[] = [];
    ctx.bus.on('containerState', (s) => states.push(s));
    ctx.bus.on('log', (l) => logs.push(l));
    const h = containerHandlers(ctx);
    await h.containerLogsFollow({ follow: true });
    await h.containerStart();
    await expect.poll(() => states.map((s) => s.phase), { timeout: 90_000 }).toContain('healthy');
    await expect.poll(() => logs.map((l) => l.text).join('\n'), { timeout: 30_000 }).toMatch(/use token=\[redacted/);
    expect(JSON.stringify(logs)).not.toContain(secret.hash);
    const status = await h.containerStatus();
    expect(status).toMatchObject({ phase: 'healthy', ok: true });
    expect((await h.containerLogs({ tail: 5 })).lines).toHaveLength(5);
    await h.containerStop();
    await expect.poll(() => states.at(-1)?.phase, { timeout: 30_000 }).toBe('stopped');
    // Following across a start: every line of the new run arrives, also those printed before the
    // stream could attach (the startup lines), and none of the previous run's again.
    const before = logs.length;
    await h.containerStart();
    await expect.poll(() => states.at(-1)?.phase, { timeout: 90_000 }).toBe('healthy');
    const startLines = () => logs.slice(before).filter((l) => l.text.includes('To see the GUI go to'));
    await expect.poll(() => startLines().length, { timeout: 30_000 }).toBe(1);
    expect(logs.slice(before).filter((l) => l.text.includes('use token=')).length).toBe(1);
    await h.containerLogsFollow({ follow: false });
    await h.containerStop();
    await expect.poll(() => states.at(-1)?.phase, { timeout: 30_000 }).toBe('stopped');
    await h.containerRemove();
    await expect.poll(() => states.at(-1)?.phase, { timeout: 30_000 }).toBe('absent');
  });
});
