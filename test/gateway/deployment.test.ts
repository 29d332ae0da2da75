/**
 * The gateway container managed like the ComfyUI container, through the real CLI on the private
 * engine: `container up` puts the ComfyUI double on the deployment's private network without a
 * published port, `gateway up|status|logs|down` run the gateway image as the only published port.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { gatewayHidesComfyCheck, gatewayKeysCheck, gatewayUpCheck } from '../../app/health/checks/gateway.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { listKeys } from '../../app/gateway/keys.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';
import { ensureGatewayImage, GATEWAY_UID } from '../support/gateway-image.js';
import { freePort } from '../docker/helpers.js';
import { cli, cliJson as json } from '../support/cli-run.js';
import { waitFor } from './rig.js';

const d = await requireDocker();
const run = `fd-${process.pid}-${randomBytes(3).toString('hex')}`;
const names = { comfy: `${run}-comfy`, gateway: `${run}-gw`, network: `${run}-net` };



/** One fresh sweep context over the config file, as the health monitor builds it. */
async function sweep(home: string, change: (c: Awaited<ReturnType<typeof loadConfig>>['config']) => void = () => undefined): Promise<SweepContext> {
  const loaded = await loadConfig(path.join(home, 'config.json'), true);
  change(loaded.config);
  return new SweepContext({ config: loaded.config, paths: panelPaths({ COMFY_PANEL_HOME: home }), configFile: loaded.path });
}

const verdicts = async (ctx: SweepContext) => ({
  up: (await gatewayUpCheck.run(ctx)).status,
  hides: (await gatewayHidesComfyCheck.run(ctx)).status,
  keys: (await gatewayKeysCheck.run(ctx)).status,
});

interface Status {
  url: string;
  state: string;
  reachable: boolean;
  upstream: { url: string; container: string; state: string; onNetwork: boolean; publishedPorts: string[]; directUrl: string | null };
  problems: string[];
}

// Generous waits: containers on a shared, loaded 2-core engine.
describe.skipIf(!d.ok)('gateway up|status|logs|down on the private engine', { timeout: 300_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  const home = mkdtempSync(path.join(os.tmpdir(), `${run}-`));
  const secretDir = path.join(home, 'secret');
  const secretFile = path.join(secretDir, 'password');
  const hash = bcrypt.hashSync(`${run}-pw`, 4);
  const saved = process.env.COMFY_PANEL_HOME;
  let comfyPort = 0;

  beforeAll(async () => {
    process.env.COMFY_PANEL_HOME = home;
    const [doubleTag, gatewayTag] = await Promise.all([ensureDoubleImage(docker), ensureGatewayImage(docker)]);
    comfyPort = await freePort();
    const gatewayPort = await freePort();
    // The secret as the recipe's user (1000) owns it; the gateway runs as the secret's owner.
    mkdirSync(secretDir, { mode: 0o755 });
    chmodSync(secretDir, 0o755);
    writeFileSync(secretFile, `${hash}\nadmin`, { mode: 0o600 });
    chownSync(secretFile, GATEWAY_UID, GATEWAY_UID);
    writeFileSync(
      path.join(home, 'config.json'),
      JSON.stringify({
        comfyui: { url: `http://127.0.0.1:${comfyPort}`, timeoutMs: 3000 },
        container: {
          name: names.comfy,
          image: doubleTag,
          hostPort: comfyPort,
          gpus: 'none',
          restartPolicy: 'no',
          stopTimeoutSec: 3,
          secretFile,
          healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 },
        },
        gateway: { enabled: true, name: names.gateway, image: gatewayTag, network: names.network, hostPort: gatewayPort, restartPolicy: 'no', stopTimeoutSec: 5, healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 } },
      }),
    );
  }, 300_000);

  afterAll(async () => {
    await Promise.all([names.gateway, names.comfy].map((n) => docker.getContainer(n).remove({ force: true }).catch(() => undefined)));
    await docker.getNetwork(names.network).remove().catch(() => undefined);
    if (saved === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  });

  it('container up joins ComfyUI to the private network without a published port', async () => {
    // Up returns once ComfyUI answers (on the private network) and ComfyUI-Login protects it, maybe before Docker's healthcheck ran.
    const s = await json<{ phase: string; ok: boolean }>(['container', 'up']);
    expect(s.ok).toBe(true);
    expect(['starting', 'healthy']).toContain(s.phase);
    const info = await docker.getContainer(names.comfy).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([names.network]);
    expect(info.NetworkSettings.Networks[names.network]?.Aliases).toContain('comfyui');
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect(Object.values(info.NetworkSettings.Ports ?? {}).flat().filter(Boolean)).toEqual([]);
    const net = (await docker.getNetwork(names.network).inspect()) as { Labels: Record<string, string> };
    expect(net.Labels['io.comfy-panel.managed']).toBe('true');
    // Its config still matches: no spurious "recreate" after moving behind the gateway.
    const r = await json<{ recreated: boolean; changes: unknown[] }>(['container', 'recreate']);
    expect(r.changes).toEqual([]);
    expect(r.recreated).toBe(false);
  });

  it('gateway status before up names what is missing and exits 1', async () => {
    const s = await json<Status>(['gateway', 'status'], 1);
    expect(s.state).toBe('absent');
    expect(s.reachable).toBe(false);
    expect(s.problems.join('\n')).toContain('gateway up');
    const ctx = await sweep(home);
    expect(await verdicts(ctx)).toEqual({ up: 'fail', hides: 'ok', keys: 'unknown' });
    expect((await gatewayUpCheck.run(ctx)).fix?.text).toContain('gateway up');
  });

  it('gateway up: healthy, the only published port; status has url, state and upstream; a key works end to end', async () => {
    const up = await json<{ phase: string; name: string }>(['gateway', 'up']);
    expect(up).toMatchObject({ name: names.gateway, phase: 'healthy' });
    const info = await docker.getContainer(names.gateway).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([names.network]);
    expect(info.HostConfig.PortBindings).toEqual({ '8189/tcp': [{ HostIp: '127.0.0.1', HostPort: expect.any(String) as unknown }] });
    expect(info.Config.User).toBe(`${GATEWAY_UID}:${GATEWAY_UID}`);

    const s = await json<Status>(['gateway', 'status']);
    expect(s).toMatchObject({ state: 'healthy', reachable: true, upstream: { url: 'http://comfyui:8188', container: names.comfy, state: 'healthy', onNetwork: true, publishedPorts: [] }, problems: [] });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The panel's own way to ComfyUI on this host: its address on the private network.
    expect((await fetch(`${s.upstream.directUrl}/system_stats`, { signal: AbortSignal.timeout(5000) })).status).toBe(401);

    const k = await json<{ key: string }>(['key', 'create', 'deploy-check', '--scope', 'read']);
    const res = await waitFor('the key through the gateway', async () => {
      const r = await fetch(`${s.url}/system_stats`, { headers: { Authorization: `Bearer ${k.key}` }, signal: AbortSignal.timeout(5000) });
      return r.status === 200 ? r : undefined;
    }, 60_000);
    expect(((await res.json()) as { system: { comfyui_version: string } }).system.comfyui_version).toBeTruthy();
    expect((await fetch(`${s.url}/system_stats`)).status).toBe(401);
    // ComfyUI's own port is not on the host.
    await expect(fetch(`http://127.0.0.1:${comfyPort}/system_stats`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();

    // The health checks: up, ComfyUI hidden, a read key let through and refused once revoked (and not left behind).
    const before = (await listKeys(path.join(home, 'data', 'gateway'))).length;
    expect(await verdicts(await sweep(home))).toEqual({ up: 'ok', hides: 'ok', keys: 'ok' });
    expect((await listKeys(path.join(home, 'data', 'gateway'))).length).toBe(before);
    // Something listening on ComfyUI's old host port is a way around the gateway.
    const squatter = (await import('node:net')).createServer((sock) => sock.end());
    await new Promise<void>((r) => squatter.listen(comfyPort, '127.0.0.1', r));
    try {
      const v = await gatewayHidesComfyCheck.run(await sweep(home));
      expect(v).toMatchObject({ status: 'fail', message: expect.stringContaining(`127.0.0.1:${comfyPort}`) as unknown });
    } finally {
      await new Promise((r) => squatter.close(r));
    }

    // Idempotent, and recreate-free: the container matches its config.
    expect(await json<{ phase: string }>(['gateway', 'up'])).toMatchObject({ phase: 'healthy' });
  });

  it('gateway logs: lines of the gateway, one JSON object each, without the key', async () => {
    const r = await cli(['--json', 'gateway', 'logs', '--tail', '50']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { text: string; time: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((l) => l.text).join('\n')).toMatch(/gateway/i);
    expect(r.stdout).not.toMatch(/cpk_[A-Za-z0-9_-]{43}/);
    expect(r.stdout).not.toContain(hash);
  });

  it('gateway down stops it (clients refused), down --remove removes it; the network stays while ComfyUI uses it', async () => {
    const s = await json<Status>(['gateway', 'status']);
    expect(await json<{ phase: string }>(['gateway', 'down'])).toMatchObject({ phase: 'stopped' });
    await expect(fetch(`${s.url}/system_stats`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    expect(await verdicts(await sweep(home))).toEqual({ up: 'fail', hides: 'ok', keys: 'unknown' });
    expect(await json<{ phase: string }>(['gateway', 'down', '--remove'])).toMatchObject({ phase: 'absent' });
    expect((await docker.getNetwork(names.network).inspect()).Name).toBe(names.network);
    // Up again from nothing: the same key store, so the key created before still works.
    expect(await json<{ phase: string }>(['gateway', 'up'])).toMatchObject({ phase: 'healthy' });
  });
});
