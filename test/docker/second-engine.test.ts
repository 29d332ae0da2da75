import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { pingDocker } from '../../app/docker/connection.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { requireDocker, requireSecondDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { startSshEngine, type SshEngine } from '../support/ssh-engine.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const first = await requireDocker();
const second = first.ok ? await requireSecondDocker(first.docker) : ({ ok: false, reason: 'no first engine' } as const);

describe.skipIf(!first.ok || !second.ok)('the second private engine (COMFY_PANEL_DOCKER_HOST_2): separate, and usable like the first', () => {
  const docker1 = first.ok ? first.docker : (undefined as never);
  const docker2 = second.ok ? second.docker : (undefined as never);
  const host2 = second.ok ? second.host : '';
  const name = uniqueName('docker-second');
  const secret = makeSecret('docker-second');
  let m: ContainerManager;
  let hostPort: number;
  let ssh: SshEngine | undefined;

  beforeAll(async () => {
    const image = await ensureDoubleImage(docker2);
    hostPort = await freePort();
    const cfg = testConfig({ name, image, hostPort, secretFile: secret.file });
    m = new ContainerManager({ ...cfg, docker: { host: host2, timeoutMs: 20_000 } });
  });
  afterAll(async () => {
    await removeContainers(docker2, [name]);
    await ssh?.stop();
    secret.cleanup();
  });

  it('is another engine: its own ID and data root', async () => {
    const [i1, i2] = (await Promise.all([docker1.info(), docker2.info()])) as { ID: string; DockerRootDir: string }[];
    expect(i2!.ID).not.toBe(i1!.ID);
    expect(i2!.DockerRootDir).not.toBe(i1!.DockerRootDir);
  });

  it('runs the ComfyUI double to healthy, on its own bridge, reachable on its published port; the first engine does not see it', { timeout: 120_000 }, async () => {
    await m.start();
    expect((await m.waitFor('healthy', 100_000)).phase).toBe('healthy');
    const info = await docker2.getContainer(name).inspect();
    // Its own bridge (scripts/dockerd.sh: comfy-dockerd2, 10.231.0.0/24), not docker0's 172.17.0.0/16.
    expect(info.NetworkSettings.Networks.bridge?.IPAddress).toMatch(/^10\.231\.0\.\d+$/);
    const r = await fetch(`http://127.0.0.1:${hostPort}/system_stats`, { headers: { Authorization: `Bearer ${secret.hash}` } });
    expect(r.status).toBe(200);
    expect((await r.json())).toMatchObject({ system: { comfyui_version: expect.any(String) as unknown } });
    expect((await docker1.listContainers({ all: true, filters: { name: [name] } })).map((c) => c.Names)).toEqual([]);
  });

  it('is reachable over ssh too (sshd whose sessions use this engine): the ssh ping reports its ID', { timeout: 120_000 }, async () => {
    ssh = await startSshEngine({ dockerHost: host2 });
    const p = await pingDocker(PanelConfigSchema.parse({ docker: { host: ssh.url, timeoutMs: 20_000 } }), ssh.env);
    expect(p, ssh.log()).toMatchObject({ ok: true });
    const viaSsh = new ContainerManager({ ...testConfig({ name, image: 'unused', hostPort }), docker: { host: ssh.url, timeoutMs: 20_000 } }, undefined, undefined, ssh.env);
    expect((await viaSsh.status()).phase).toBe('healthy');
    expect((await viaSsh.docker.info()).ID).toBe(((await docker2.info()) as { ID: string }).ID);
  });
});
