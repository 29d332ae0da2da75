import { describe, expect, it } from 'vitest';
import { ContainerManager } from '../../app/docker/manager.js';
import { requireDocker } from '../support/docker.js';
import { freePort, testConfig, uniqueName } from './helpers.js';

const d = await requireDocker();

describe.skipIf(!d.ok)('creating the container before the credential exists', () => {
  it('names the missing secret file and the command that creates it, instead of a bind-mount error', async () => {
    const docker = d.ok ? d.docker : (undefined as never);
    const config = testConfig({ name: uniqueName('no-secret'), image: 'no-such-image:never', hostPort: await freePort(), secretFile: '/nonexistent/comfyui-password' });
    const err = await new ContainerManager(config, docker).start().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'secret-file-missing' });
    expect((err as Error).message).toContain('/nonexistent/comfyui-password');
    expect((err as { fix: string }).fix).toContain('comfy-panel token init');
    expect(await docker.getContainer(config.container.name).inspect().then(() => true, () => false)).toBe(false);
  });
});
