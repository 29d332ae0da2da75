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
describe.skipIf(!d.ok)('the first credential, before the container exists', { timeout: 180_000 }, () => {
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
    // init returned once ComfyUI answered; Docker's own healthcheck follows at its next run.
    expect((await new ContainerManager(config, docker).waitFor('healthy', 60_000)).phase).toBe('healthy');
    const hash = (await fs.readFile(secretFile, 'utf8')).split('\n')[0]!;
    expect((await probeAuth(config.comfyui.url, hash, 3_000)).status).toBe(200);
    expect((await probeAuth(config.comfyui.url, undefined, 3_000)).status).toBe(401);
  });

  it('with no secret file configured and no container: refuses before doing anything, naming the fix; no deadlock', async () => {
    const docker = d.ok ? d.docker : (undefined as never);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'truth-nosecret-'));
    const lone = uniqueName('truth-nosecret');
    try {
      const base = testConfig({ name: lone, image: await ensureDoubleImage(docker), hostPort: await freePort() });
      const config = parseConfig({ ...base, vault: { dir: path.join(dir, 'vault') } });
      const actions = tokenActions(config, panelPaths({ COMFY_PANEL_HOME: dir }), { actor: 'test', docker });
      const err = await actions.init(false).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'no-secret-file' });
      expect((err as { fix: string }).fix).toMatch(/container\.secretFile/);
      // Nothing was started, written or left to recover.
      expect((await new ContainerManager(config, docker).status()).exists).toBe(false);
      expect(await actions.vault.read()).toBeUndefined();
      expect((await actions.recover()).outcome).toBe('nothing-to-do');
    } finally {
      await removeContainers(docker, [lone]);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
