/**
 * `container.command: []` says "no override", as leaving it out does: it must not read as a
 * change in a config diff (adoption, settings), in the spec diff against a container created
 * without an override, or in the create spec (Docker would get an empty Cmd).
 */
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { planAdoption } from '../../app/adopt/index.js';
import { configDiff } from '../../app/config/diff.js';
import { parseConfig } from '../../app/config/load.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { buildCreateSpec, desiredView } from '../../app/docker/spec.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { requireDocker } from '../support/docker.js';
import { freePort, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';

const withCommand = (command?: string[]) => parseConfig({ container: { name: 'comfyui', ...(command ? { command } : {}) } });

describe('container.command: []', () => {
  it('is the same config as no command: no change in the config diff, none in the view, no Cmd in the create spec', () => {
    expect(configDiff(withCommand(), withCommand([]))).toEqual([]);
    expect(desiredView(withCommand([])).command).toBeNull();
    expect(buildCreateSpec(withCommand([]))).not.toHaveProperty('Cmd');
    // An override is still one.
    expect(configDiff(withCommand(), withCommand(['python', 'main.py']))).toEqual([{ field: 'container.command', from: '(unset)', to: '["python","main.py"]' }]);
  });
});

const d = await requireDocker();

describe.skipIf(!d.ok)('container.command: [] against a container without an override', { timeout: 120_000 }, () => {
  const docker = (d as { docker: Docker }).docker;
  const name = uniqueName('fr-cmd');
  afterAll(() => removeContainers(docker, [name]));

  it('created from that config, the container matches it: no recreate; adopting it changes no container.command', async () => {
    const config = testConfig({ name, image: await ensureDoubleImage(docker), hostPort: await freePort(), extra: { command: [] } });
    const m = new ContainerManager(config, docker);
    await m.create();
    expect(await m.diffSpec()).toEqual([]);
    const plan = await planAdoption(config, { docker, containerName: name, configFile: '/tmp/fr-cmd/config.json' });
    expect(plan.config.container.command).toBeUndefined();
    expect(plan.diff.map((c) => c.field)).not.toContain('container.command');
  });
});
