import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerManager } from '../../app/docker/manager.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const d = await requireDocker();

// Generous limits: containers start slowly on a loaded machine (waits end as soon as the state is reached).
describe.skipIf(!d.ok)('diffSpec, recreate, adopt and build', { timeout: 180_000 }, () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const secret = makeSecret('docker-recreate');
  const name = uniqueName('docker-recreate');
  const composeName = uniqueName('docker-recreate');
  const buildTag = `${uniqueName('docker-build')}:test`;
  const buildDir = mkdtempSync(path.join(os.tmpdir(), 'docker-build-'));
  let image = '';

  beforeAll(async () => {
    image = await ensureDoubleImage(docker);
  });
  afterAll(async () => {
    const leftovers = (await docker.listContainers({ all: true, filters: { name: [name] } })).map((c) => c.Id);
    await removeContainers(docker, [name, composeName, ...leftovers]);
    await docker.getImage(buildTag).remove({ force: true }).catch(() => undefined);
    rmSync(buildDir, { recursive: true, force: true });
    secret.cleanup();
  });

  it('reports nothing to change right after create, then each change; recreate applies them and keeps it running', async () => {
    const port = await freePort();
    const base = testConfig({ name, image, hostPort: port, secretFile: secret.file });
    const m = new ContainerManager(base, docker);
    await m.start();
    await m.waitFor('healthy', 90_000);
    expect(await m.diffSpec()).toEqual([]);
    expect(await m.recreate()).toMatchObject({ recreated: false, changes: [] });

    const newPort = await freePort();
    const changed = new ContainerManager(testConfig({ name, image, hostPort: newPort, secretFile: secret.file, extra: { env: { COMFY_EXTRA: 'on' } } }), docker);
    const diff = await changed.diffSpec();
    expect(diff).toContainEqual({ field: 'ports', from: `127.0.0.1:${port}->8188/tcp`, to: `127.0.0.1:${newPort}->8188/tcp` });
    expect(diff).toContainEqual({ field: 'env', from: 'COMFY_EXTRA=(unset)', to: expect.stringMatching(/^COMFY_EXTRA=fp:/) });

    const r = await changed.recreate();
    expect(r.recreated).toBe(true);
    expect(r.changes).toEqual(diff);
    expect(await changed.waitFor('healthy', 90_000)).toMatchObject({ phase: 'healthy' });
    expect(await changed.diffSpec()).toEqual([]);
    expect((await changed.status()).ports[0]?.hostPort).toBe(newPort);
    // The old container was set aside and then removed.
    const all = await docker.listContainers({ all: true, filters: { name: [name] } });
    expect(all.map((c) => c.Names[0])).toEqual([`/${name}`]);
  });

  it('adopts a compose-made container: says what it can and cannot change, and will not recreate it unasked', async () => {
    await docker.createContainer({
      name: composeName,
      Image: image,
      Labels: { 'com.docker.compose.project': 'qwen', 'com.docker.compose.service': 'comfyui', 'com.docker.compose.project.working_dir': '/srv/qwen' },
    });
    const m = new ContainerManager(testConfig({ name: composeName, image, hostPort: await freePort() }), docker);
    const s = await m.status();
    expect(s).toMatchObject({ managed: false, adopted: true, compose: { project: 'qwen', service: 'comfyui', workingDir: '/srv/qwen' } });
    const r = await m.adopt();
    expect(r).toMatchObject({ name: composeName, managed: false, compose: { project: 'qwen' } });
    expect(r.canChange.join(' ')).toMatch(/start, stop and restart.*logs.*files/);
    expect(r.cannotChange.join(' ')).toMatch(/env, ports, mounts.*detaches it from compose project "qwen"/);
    expect(r.differences.map((c) => c.field)).toEqual(expect.arrayContaining(['env', 'ports', 'healthcheck']));
    await expect(m.recreate()).rejects.toMatchObject({ code: 'container-compose-owned' });
  });

  it('adopting a container that does not exist says so', async () => {
    const m = new ContainerManager(testConfig({ name: uniqueName('docker-recreate-none'), image, hostPort: 1 }), docker);
    await expect(m.adopt()).rejects.toMatchObject({ problem: { kind: 'no-such-container' } });
  });

  it('builds a Dockerfile through dockerode, streaming progress', async () => {
    writeFileSync(path.join(buildDir, 'Dockerfile'), `FROM ${image}\nCOPY hello.txt /hello.txt\nLABEL io.comfy-panel.test=build\n`);
    writeFileSync(path.join(buildDir, 'hello.txt'), 'hi');
    const m = new ContainerManager(testConfig({ name, image: buildTag, hostPort: 1 }), docker);
    const progress: string[] = [];
    const r = await m.build((l) => progress.push(l), { contextDir: buildDir });
    expect(r.tag).toBe(buildTag);
    expect(progress.join('\n')).toMatch(/Step 2\/3 : COPY hello.txt/);
    expect((await docker.getImage(buildTag).inspect()).Config.Labels).toMatchObject({ 'io.comfy-panel.test': 'build' });
  });

  it('a build whose base image cannot be pulled fails with a clear error naming the base', async () => {
    writeFileSync(path.join(buildDir, 'Dockerfile'), 'FROM docker-build-missing-base:never\nRUN true\n');
    const m = new ContainerManager(testConfig({ name, image: buildTag, hostPort: 1 }), docker);
    const err = await m.build(undefined, { contextDir: buildDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'build-base-image-unavailable', fix: expect.stringContaining('docker-build-missing-base:never') });
  });
});

describe.skipIf(!d.ok)('recreate checks everything it can before it stops anything', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const secret = makeSecret('docker-precheck');
  const name = uniqueName('docker-precheck');
  const missingDir = path.join(os.tmpdir(), `${name}-no-such-dir`);
  let image = '';
  let port = 0;
  let startedAt = '';

  /** Every container whose name starts with ours: the managed one, probes and set-aside copies. */
  const ours = async () => (await docker.listContainers({ all: true, filters: { name: [name] } })).map((c) => c.Names[0]);

  beforeAll(async () => {
    image = await ensureDoubleImage(docker);
    port = await freePort();
    const m = new ContainerManager(testConfig({ name, image, hostPort: port, secretFile: secret.file }), docker);
    await m.start();
    await m.waitFor('healthy', 100_000);
    startedAt = (await docker.getContainer(name).inspect()).State.StartedAt;
  }, 150_000);
  afterAll(async () => {
    const leftovers = (await docker.listContainers({ all: true, filters: { name: [name] } })).map((c) => c.Id);
    await removeContainers(docker, [name, ...leftovers]);
    secret.cleanup();
  });

  /** The old container still runs, was never stopped or restarted, and nothing else is left. */
  async function untouched() {
    const info = await docker.getContainer(name).inspect();
    expect(info.State).toMatchObject({ Running: true, StartedAt: startedAt });
    expect(await ours()).toEqual([`/${name}`]);
  }

  it.each([
    ['an image that is not on the engine', () => ({ image: `${name}-missing:never` }), 'no-such-image'],
    ['a GPU request on an engine without the NVIDIA runtime', () => ({ extra: { gpus: 'all' as const } }), 'nvidia-runtime-missing'],
    ['a mount whose source does not exist', () => ({ extra: { mounts: [{ source: missingDir, target: '/workspace/ComfyUI/models', readOnly: false }] } }), 'mount-source-missing'],
  ])('%s: fails with its problem while the old container keeps serving', { timeout: 60_000 }, async (_label, change, kind) => {
    const c = change() as { image?: string; extra?: Record<string, unknown> };
    const m = new ContainerManager(testConfig({ name, image: c.image ?? image, hostPort: port, secretFile: secret.file, extra: { env: { PRECHECK: '1' }, ...c.extra } }), docker);
    await expect(m.recreate()).rejects.toMatchObject({ problem: { kind } });
    await untouched();
  });

  it('a new host port that something else holds: port-in-use before the old one is stopped', { timeout: 60_000 }, async () => {
    const taken = await freePort();
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(taken, '127.0.0.1', r));
    try {
      const m = new ContainerManager(testConfig({ name, image, hostPort: taken, secretFile: secret.file }), docker);
      await expect(m.recreate()).rejects.toMatchObject({ problem: { kind: 'port-in-use' } });
      await untouched();
    } finally {
      holder.close();
    }
  });

  it('with everything in order (same port as the running one) it recreates, and no probe is left behind', { timeout: 150_000 }, async () => {
    const m = new ContainerManager(testConfig({ name, image, hostPort: port, secretFile: secret.file, extra: { env: { PRECHECK: 'passed' } } }), docker);
    expect((await m.recreate()).recreated).toBe(true);
    expect((await m.waitFor('healthy', 100_000)).phase).toBe('healthy');
    expect(await ours()).toEqual([`/${name}`]);
  });
});

describe.skipIf(!d.ok)('container up after container.gpus changed to "none"', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const names = { managed: uniqueName('docker-gpus'), foreign: uniqueName('docker-gpus') };
  // The recipe's entrypoint refuses to start without a PASSWORD when auth is required.
  const secret = makeSecret('docker-gpus');
  afterAll(async () => {
    await removeContainers(docker, Object.values(names));
    secret.cleanup();
  });

  it('recreates the Created container the failed GPU start left behind, then starts it: no second failure, no leftover', { timeout: 150_000 }, async () => {
    const image = await ensureDoubleImage(docker);
    const port = await freePort();
    const withGpu = new ContainerManager(testConfig({ name: names.managed, image, hostPort: port, secretFile: secret.file, extra: { gpus: 'all' } }), docker);
    await expect(withGpu.start()).rejects.toMatchObject({ problem: { kind: 'nvidia-runtime-missing' } });
    expect((await docker.getContainer(names.managed).inspect()).State.Status).toBe('created');

    const noGpu = new ContainerManager(testConfig({ name: names.managed, image, hostPort: port, secretFile: secret.file, extra: { gpus: 'none' } }), docker);
    await noGpu.start();
    expect((await noGpu.waitFor('healthy', 100_000)).phase).toBe('healthy');
    expect(await noGpu.diffSpec()).toEqual([]);
    expect((await docker.listContainers({ all: true, filters: { name: [names.managed] } })).length).toBe(1);
  });

  it('a Created container the panel did not make is not replaced unasked: the failure says to recreate it', { timeout: 60_000 }, async () => {
    const image = await ensureDoubleImage(docker);
    await docker.createContainer({ name: names.foreign, Image: image, HostConfig: { DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] } });
    const m = new ContainerManager(testConfig({ name: names.foreign, image, hostPort: await freePort(), extra: { gpus: 'none' } }), docker);
    const err = (await m.start().catch((e: unknown) => e)) as { problem: { kind: string; fix: string } };
    expect(err.problem.kind).toBe('nvidia-runtime-missing');
    expect(err.problem.fix).toMatch(new RegExp(`^${names.foreign} was created with other settings than the config \\(.*gpus.*\\): \`comfy-panel container recreate\` applies the config`));
  });
});
