/**
 * A gateway on a remote engine keeps its state in a named volume there, not in a bind mount of
 * the panel's folder (a host path on an ssh or tcp engine names a folder on the other machine,
 * which the panel's key writes never reach). The panel copies keys.json in after every write and
 * the usage log out before reading it, through the engine's archive API. Tested over a real ssh
 * engine whose filesystem is this machine's, so "works" alone would not prove "not a bind mount":
 * the container's mounts are asserted too, and the gateway's own files never appear on this side.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import type { PanelConfig } from '../../app/config/schema.js';
import { GatewayManager } from '../../app/docker/gateway.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { clientUsage, createClientKey, revokeClientKey } from '../../app/gateway/clients.js';
import { KEY_STORE_FILE } from '../../app/gateway/keys.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';
import { ensureGatewayImage, GATEWAY_UID } from '../support/gateway-image.js';
import { requireSshEngine } from '../support/ssh-engine.js';
import { freePort, uniqueName } from '../docker/helpers.js';
import { waitFor } from './rig.js';

const base = (host: string | undefined, gateway: Record<string, unknown> = {}) =>
  parseConfig({ ...(host ? { docker: { host } } : {}), container: { name: 'comfyui', secretFile: '/s/p' }, gateway: { enabled: true, name: 'gw1', ...gateway } });

describe('where the gateway state lives', () => {
  it('a local socket: stateDir bind-mounted; ssh or tcp: the volume <name>-state; gateway.stateVolume: that volume on any engine', () => {
    const at = (host: string | undefined, g?: Record<string, unknown>) => new GatewayManager(base(host, g), { dataDir: '/d' }, undefined, {});
    expect(at('unix:///var/run/docker.sock').stateVolume).toBeUndefined();
    expect(at('unix:///var/run/docker.sock').state.publish).toBeUndefined();
    expect(at('ssh://me@gpu-box').stateVolume).toBe('gw1-state');
    expect(at('tcp://gpu-box:2376').stateVolume).toBe('gw1-state');
    expect(at('unix:///tmp/forwarded.sock', { stateVolume: 'mine' }).stateVolume).toBe('mine');
    expect(typeof at('ssh://me@gpu-box').state.publish).toBe('function');
  });
});

const d = await requireDocker();
const s = d.ok ? await requireSshEngine() : ({ ok: false, reason: 'no Docker engine' } as const);

describe.skipIf(!d.ok || !s.ok)('a gateway over an ssh engine: state in a volume, filled and read by the panel', { timeout: 300_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  const engine = s.ok ? s.engine : undefined;
  const run = uniqueName('fr-vol');
  const names = { comfy: `${run}-comfy`, gateway: `${run}-gw`, network: `${run}-net` };
  const home = mkdtempSync(path.join(os.tmpdir(), `${run}-`));
  const dataDir = path.join(home, 'data');
  let config: PanelConfig;
  let m: GatewayManager;
  const accepted = new Map<string, number>();
  const stats = async (key: string) => {
    const { status } = await fetch(`${m.url}/system_stats`, { headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(5000) });
    if (status === 200) accepted.set(key, (accepted.get(key) ?? 0) + 1);
    return status;
  };

  beforeAll(async () => {
    const [doubleTag, gatewayTag] = await Promise.all([ensureDoubleImage(docker), ensureGatewayImage(docker)]);
    const secretDir = path.join(home, 'secret');
    mkdirSync(secretDir);
    chmodSync(secretDir, 0o755);
    const secretFile = path.join(secretDir, 'password');
    writeFileSync(secretFile, `${bcrypt.hashSync(`${run}-pw`, 4)}\nadmin`, { mode: 0o600 });
    chownSync(secretFile, GATEWAY_UID, GATEWAY_UID);
    const comfyPort = await freePort();
    config = parseConfig({
      docker: { host: engine!.url },
      comfyui: { url: `http://127.0.0.1:${comfyPort}`, timeoutMs: 3000 },
      container: { name: names.comfy, image: doubleTag, hostPort: comfyPort, gpus: 'none', restartPolicy: 'no', stopTimeoutSec: 3, secretFile, healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 } },
      gateway: { enabled: true, name: names.gateway, image: gatewayTag, network: names.network, hostPort: await freePort(), restartPolicy: 'no', stopTimeoutSec: 3, healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 } },
    });
    m = new GatewayManager(config, { dataDir }, undefined, engine!.env);
    const comfy = new ContainerManager(config, undefined, undefined, engine!.env);
    await comfy.start();
    await comfy.waitFor(['healthy'], 120_000);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([names.gateway, names.comfy].map((n) => docker.getContainer(n).remove({ force: true }).catch(() => undefined)));
    await docker.getNetwork(names.network).remove().catch(() => undefined);
    await docker.getVolume(`${names.gateway}-state`).remove().catch(() => undefined);
    await engine?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('a key created before the gateway exists works once it is up; its /state is the volume, not the panel folder', async () => {
    expect(m.stateVolume).toBe(`${names.gateway}-state`);
    const early = await createClientKey(m.state, { name: 'early', scope: 'read' });
    await m.up();
    await m.container.waitFor(['healthy'], 120_000);
    const info = await docker.getContainer(names.gateway).inspect();
    const state = info.Mounts.find((x) => x.Destination === '/state');
    expect(state).toMatchObject({ Type: 'volume', Name: `${names.gateway}-state`, RW: true });
    expect(info.Mounts.some((x) => x.Source === m.stateDir)).toBe(false);
    // Up again is not a recreate: the volume is what the config asks for.
    expect(await m.container.diffSpec()).toEqual([]);
    await waitFor('the early key at the gateway', async () => ((await stats(early.key)) === 200 ? true : undefined), 30_000);
    // The gateway's own files live in the volume only; this side has the store the panel wrote.
    expect(existsSync(path.join(m.stateDir, KEY_STORE_FILE))).toBe(true);
    expect(existsSync(path.join(m.stateDir, 'session.key'))).toBe(false);
  });

  it('a key created while it runs is let through, refused within a second of its revocation; usage comes from the volume', async () => {
    const k = await createClientKey(m.state, { name: 'live', scope: 'read' });
    await waitFor('the new key at the gateway', async () => ((await stats(k.key)) === 200 ? true : undefined), 10_000);
    expect(await stats(k.key)).toBe(200);
    await revokeClientKey(m.state, k.id);
    const at = Date.now();
    await waitFor('the revoked key refused', async () => ((await stats(k.key)) === 401 ? true : undefined), 1_000);
    expect(Date.now() - at).toBeLessThan(1_000);
    // The gateway flushes its counts every 2 s into the volume; the panel reads them from there.
    await waitFor(
      'usage of both keys',
      async () => {
        const rows = await clientUsage(m.state);
        const of = (name: string) => rows.find((r) => r.name === name)?.requests;
        return of('live') === accepted.get(k.key) && of('early') && of('early')! >= 1 ? true : undefined;
      },
      15_000,
    );
    expect(existsSync(path.join(m.stateDir, 'usage'))).toBe(true);
  });
});
