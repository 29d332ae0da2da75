import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeAuth } from '../../app/comfy/client.js';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { freePort, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { useFastBcrypt } from './support.js';

useFastBcrypt();
const d = await requireDocker();

// A fresh install: no secret file, no container. `token init` must create both, not fail at "backup".
describe.skipIf(!d.ok)('the first credential, before the container exists', () => {
  const name = uniqueName('first-cred');
  let home = '';
  afterAll(async () => {
    if (d.ok) await removeContainers(d.docker, [name]);
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('writes the secret file, creates and starts the container, and verifies the new token', async () => {
    const docker = d.ok ? d.docker : (undefined as never);
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'first-cred-'));
    const secretFile = path.join(home, 'secrets', 'comfyui-password');
    const base = testConfig({ name, image: await ensureDoubleImage(docker), hostPort: await freePort(), secretFile });
    const config = parseConfig({ ...base, vault: { dir: path.join(home, 'vault') } });
    const actions = tokenActions(config, panelPaths({ COMFY_PANEL_HOME: home }), { actor: 'test', docker });

    const result = await actions.init(false);
    expect(result).toMatchObject({ ok: true, outcome: 'committed', kind: 'init' });
    expect(((await fs.stat(secretFile)).mode & 0o777).toString(8)).toBe('600');
    expect((await new ContainerManager(config, docker).status()).phase).toBe('healthy');
    const hash = (await fs.readFile(secretFile, 'utf8')).split('\n')[0]!;
    expect((await probeAuth(config.comfyui.url, hash, 3_000)).status).toBe(200);
    expect((await probeAuth(config.comfyui.url, undefined, 3_000)).status).toBe(401);
  });
});
