import tar from 'tar-stream';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerState } from '../../app/contract/ops/container.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { exitCodeText } from '../../app/docker/state.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const d = await requireDocker();

// Generous limits: containers start slowly on a loaded machine (waits end as soon as the state is reached).
describe.skipIf(!d.ok)('ContainerManager lifecycle against the real engine and the ComfyUI double', { timeout: 180_000 }, () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const name = uniqueName('docker-life');
  const secret = makeSecret('docker-life');
  let m: ContainerManager;
  const seen: ContainerState[] = [];
  let unwatch: () => void = () => undefined;

  beforeAll(async () => {
    const image = await ensureDoubleImage(docker);
    m = new ContainerManager(testConfig({ name, image, hostPort: await freePort(), secretFile: secret.file, extra: { authRequired: true } }), docker);
    unwatch = m.watch((s) => seen.push(s));
  });
  afterAll(async () => {
    unwatch();
    await removeContainers(docker, [name]);
    secret.cleanup();
  });

  it('starts absent, is created with the panel labels, then runs to healthy', async () => {
    expect((await m.status()).phase).toBe('absent');
    const created = await m.create();
    expect(created.phase).toBe('created');
    const s = await m.status();
    expect(s).toMatchObject({ managed: true, adopted: false, labels: { 'io.comfy-panel.managed': 'true' } });
    expect(s.labels['io.comfy-panel.spec-hash']).toMatch(/^[0-9a-f]{16}$/);
    await m.start();
    const healthy = await m.waitFor('healthy', 90_000);
    expect(healthy).toMatchObject({ phase: 'healthy', health: 'healthy' });
    expect((await m.status()).ports).toContainEqual(expect.objectContaining({ containerPort: 8188, hostIp: '127.0.0.1' }));
  });

  it('the entrypoint installed login/PASSWORD from the read-only secret mount', async () => {
    const pw = await m.readFileEntry('/workspace/ComfyUI/login/PASSWORD');
    expect(pw.data.toString('utf8')).toBe(`${secret.hash}\nqwen`);
    expect(pw.mode).toBe(0o600);
  });

  it('writes a file through the archive API with mode 0600 and reads it back', async () => {
    const path = '/workspace/ComfyUI/login/round-trip.txt';
    await m.writeFile(path, 'hello\nsecret-ish');
    expect((await m.readFile(path)).toString('utf8')).toBe('hello\nsecret-ish');
    // The mode as Docker stores it, from the tar header of getArchive.
    const extract = tar.extract();
    ((await docker.getContainer(name).getArchive({ path })) as Readable).pipe(extract);
    for await (const entry of extract) {
      expect(entry.header.mode & 0o777).toBe(0o600);
      expect(entry.header.name).toBe('round-trip.txt');
      entry.resume();
    }
    await m.writeFile(path, Buffer.from('mode 640'), 0o640);
    expect((await m.readFileEntry(path)).mode).toBe(0o640);
    await expect(m.readFile('/workspace/ComfyUI/login/nope')).rejects.toThrow(/does not exist in container/);
  });

  it('exec runs a command without a shell', async () => {
    const r = await m.exec(['node', '-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
    expect(r).toEqual({ exitCode: 3, stdout: 'out', stderr: 'err' });
  });

  it('stop is a deliberate stop, not a crash; start and restart bring it back to healthy', async () => {
    const stopped = await m.stop();
    expect(stopped.phase).toBe('stopped');
    await m.start();
    await m.waitFor('healthy', 90_000);
    await m.restart();
    expect((await m.waitFor('healthy', 90_000)).phase).toBe('healthy');
  });

  it('a SIGKILL sent by the operator (docker kill, exit 137) is a deliberate stop: the kill event tells it from a crash', async () => {
    await docker.getContainer(name).kill();
    const s = await m.waitFor(['stopped', 'crashed'], 10_000);
    expect(s).toMatchObject({ phase: 'stopped', exitCode: 137 });
    await m.start();
    await m.waitFor('healthy', 90_000);
  });

  it('the watcher saw each transition through Docker events', () => {
    const phases = seen.map((s) => s.phase);
    expect(phases[0]).toBe('absent');
    for (const p of ['created', 'starting', 'healthy', 'stopped']) expect(phases).toContain(p);
    expect(phases).not.toContain('crashed');
  });

  it('remove stops and removes; the state is absent again', async () => {
    expect((await m.remove()).phase).toBe('absent');
    await expect(m.stop()).rejects.toMatchObject({ problem: { kind: 'no-such-container' } });
  });
});

describe.skipIf(!d.ok)('exit code 143 (SIGTERM, what tini returns after docker stop) is a clean stop', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const names = { term: uniqueName('docker-143'), fail: uniqueName('docker-exit1') };
  afterAll(() => removeContainers(docker, Object.values(names)));

  /** A container whose process exits by itself with `code`: no stop or kill event is recorded. */
  async function exitedWith(name: string, code: number): Promise<ContainerManager> {
    const image = await ensureDoubleImage(docker);
    const c = await docker.createContainer({ name, Image: image, Entrypoint: ['/usr/bin/node', '-e', `process.exit(${code})`] });
    await c.start();
    await c.wait();
    return new ContainerManager(testConfig({ name, image, hostPort: await freePort() }), docker);
  }

  it('143 without any stop request is "stopped", and its text says SIGTERM: a clean stop', async () => {
    const s = await (await exitedWith(names.term, 143)).status();
    expect(s).toMatchObject({ phase: 'stopped', exitCode: 143 });
    expect(exitCodeText(s.exitCode!)).toBe('exit code 143, SIGTERM: a clean stop');
  });

  it('any other non-zero exit without a stop request is still a crash', async () => {
    expect(await (await exitedWith(names.fail, 1)).status()).toMatchObject({ phase: 'crashed', exitCode: 1 });
  });
});
