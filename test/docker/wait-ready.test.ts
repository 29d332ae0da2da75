import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import type { PanelConfig } from '../../app/config/schema.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { waitServing } from '../../app/docker/wait-serving.js';
import { PanelError } from '../../app/errors.js';
import { doubleArgs, ensureDoubleImage } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const d = await requireDocker();

/**
 * Waiting for healthy asks ComfyUI itself (issue 13 item 6) and never calls a server healthy while
 * ComfyUI-Login does not protect it (item 2). Docker's healthcheck here runs every 10 minutes, so it
 * cannot be what a wait that ends sees.
 */
describe.skipIf(!d.ok)('container up waits for ComfyUI, not for Docker\'s healthcheck', { timeout: 240_000 }, () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const home = mkdtempSync(path.join(os.tmpdir(), 'truth-wait-'));
  const secret = makeSecret('truth-wait');
  const names: string[] = [];
  let image: string;
  const savedHome = process.env.COMFY_PANEL_HOME;

  const config = async (extra: Partial<PanelConfig['container']> = {}, command: string[] = [], withSecret = true): Promise<PanelConfig> => {
    const name = uniqueName('truth-wait');
    names.push(name);
    const c = testConfig({ name, image, hostPort: await freePort(), command, ...(withSecret ? { secretFile: secret.file } : {}), extra: { healthcheck: { command: ['/usr/local/bin/comfy-healthcheck'], intervalSec: 600, timeoutSec: 10, retries: 3, startPeriodSec: 0 }, ...extra } });
    return { ...c, docker: { host: d.ok ? d.host : '', timeoutMs: 20_000 } };
  };

  async function cli(args: string[], cfg: PanelConfig): Promise<{ code: number; out: string; err: string }> {
    process.env.COMFY_PANEL_HOME = home;
    writeFileSync(path.join(home, 'config.json'), JSON.stringify(cfg));
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
    process.exitCode = undefined;
    const code = await runCli(['--json', ...args]);
    vi.restoreAllMocks();
    return { code, out: out.join(''), err: err.join('') };
  }

  beforeAll(async () => {
    image = await ensureDoubleImage(docker);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  afterAll(async () => {
    if (savedHome === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = savedHome;
    await removeContainers(docker, names);
    rmSync(home, { recursive: true, force: true });
    secret.cleanup();
  });

  it('a good container: up returns ok as soon as ComfyUI answers, while Docker still says "starting"', async () => {
    const cfg = await config();
    const up = await cli(['container', 'up'], cfg);
    expect(up.code, up.out + up.err).toBe(0);
    const json = JSON.parse(up.out) as { ok: boolean; reasons: string[]; health: string; waitedMs: number };
    expect(json).toMatchObject({ ok: true, reasons: [] });
    expect(json.health).toBe('starting'); // Docker's first healthcheck run is 10 minutes away
  });

  it('a login node without token support: up exits 1, saying it is not protected and why', async () => {
    const cfg = await config({}, doubleArgs({ loginNodeVersion: 'pre-token' }));
    const up = await cli(['container', 'up'], cfg);
    expect(up.code).toBe(1);
    const json = JSON.parse(up.out) as { ok: boolean; reasons: string[] };
    expect(json.ok).toBe(false);
    expect(json.reasons.join('\n')).toMatch(/this ComfyUI-Login version has no token support/);
  });

  it('a container that exits at start: the wait ends at once with the exit code and the last log lines', async () => {
    // No secret with auth required: the entrypoint refuses to start (exit 1).
    const cfg = await config({ restartPolicy: 'no' }, [], false);
    const m = new ContainerManager(cfg);
    await m.start();
    const err = await waitServing(m, { url: cfg.comfyui.url, timeoutMs: 120_000, requestTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PanelError);
    expect((err as PanelError).code).toBe('container-exited');
    expect((err as PanelError).message).toMatch(/exited \(exit code 1\)/);
    expect((err as PanelError).message).toMatch(/refusing to start/);
  });

  it('a restart-looping container: the wait ends naming the loop, not after its timeout', async () => {
    const cfg = await config({ restartPolicy: 'always' }, [], false);
    const m = new ContainerManager(cfg);
    await m.start();
    const err = await waitServing(m, { url: cfg.comfyui.url, timeoutMs: 120_000, requestTimeoutMs: 2_000, restartCountBefore: 0 }).catch((e: unknown) => e);
    expect((err as PanelError).code).toBe('container-exited');
    expect((err as PanelError).message).toMatch(/restart-looping|exited \(exit code 1\)/);
    expect((err as PanelError).message).toMatch(/refusing to start/);
    await m.stop().catch(() => undefined);
  });
});
