import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { panelPaths } from '../../app/config/paths.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { containerCheck } from '../../app/health/checks/container.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';

const d = await requireDocker();

// The outage class "port in use": Docker leaves the container created, with the reason in State.Error.
describe.skipIf(!d.ok)('a container that could not start', () => {
  const name = uniqueName('start-error');
  const secret = makeSecret('start-error');
  const squatter = net.createServer();
  afterAll(async () => {
    squatter.close();
    secret.cleanup();
    if (d.ok) await removeContainers(d.docker, [name]);
  });

  it('turns the container check red with the port-in-use fix, not a bare "created"', async () => {
    const docker = d.ok ? d.docker : (undefined as never);
    const port = await freePort();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    const config = testConfig({ name, image: await ensureDoubleImage(docker), hostPort: port, secretFile: secret.file });
    const err = await new ContainerManager(config, docker).start().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ problem: { kind: 'port-in-use' } });

    const ctx = new SweepContext({ config, paths: panelPaths({ COMFY_PANEL_HOME: path.join(os.tmpdir(), name) }), configFile: path.join(os.tmpdir(), name, 'config.json') });
    const verdict = await containerCheck.run(ctx);
    expect(verdict.status).toBe('fail');
    expect(verdict.message).toMatch(/could not start/);
    expect(verdict.fix).toMatchObject({ failure: 'port-in-use' });
  });
});
