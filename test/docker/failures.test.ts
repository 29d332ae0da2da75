import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { pingDocker } from '../../app/docker/connection.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { freePort, removeContainers, testConfig, uniqueName } from './helpers.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'docker-fail-'));
chmodSync(dir, 0o755); // the unprivileged child must reach the socket to be refused by its mode
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pingAt = (host: string, timeoutMs = 2000, env: NodeJS.ProcessEnv = process.env) => pingDocker(PanelConfigSchema.parse({ docker: { host, timeoutMs } }), env);

describe('connection failures, produced for real', () => {
  it('a socket file nobody listens on: daemon not running', async () => {
    // A listener killed with SIGKILL leaves its socket file behind, like a crashed dockerd.
    const sock = path.join(dir, 'dead.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(sock)).toBe(true);
    const p = await pingAt(`unix://${sock}`);
    expect(p).toMatchObject({ ok: false, source: 'config', problem: { kind: 'daemon-not-running' } });
    expect(p.problem?.message).toContain('connection refused');
  });

  it('a tcp:// engine that refuses: the fix is about that host and its port, not `systemctl start docker` here', async () => {
    const port = await freePort();
    const p = await pingAt(`tcp://127.0.0.1:${port}`);
    expect(p).toMatchObject({ ok: false, problem: { kind: 'daemon-not-running' } });
    expect(p.problem?.fix).toContain(`listens on tcp port ${port}`);
    expect(p.problem?.fix).toContain(`docker -H tcp://127.0.0.1:${port} version`);
  });

  it('no socket and no docker command: engine not installed', async () => {
    const p = await pingAt(`unix://${path.join(dir, 'never.sock')}`, 2000, { PATH: '' });
    expect(p.problem?.kind).toBe('engine-not-installed');
  });

  it('an engine that accepts but never answers: timeout', async () => {
    const sock = path.join(dir, 'mute.sock');
    const held: net.Socket[] = [];
    const srv = net.createServer((s) => void held.push(s));
    await new Promise<void>((r) => srv.listen(sock, r));
    try {
      const p = await pingAt(`unix://${sock}`, 300);
      expect(p.problem).toMatchObject({ kind: 'timeout', message: expect.stringContaining('300 ms') });
    } finally {
      for (const s of held) s.destroy();
      srv.close();
    }
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv'))(
    'a socket the user may not open: permission denied (client run as uid 65534)',
    async () => {
      const sock = path.join(dir, 'private.sock');
      const srv = net.createServer((s) => s.end());
      await new Promise<void>((r) => srv.listen(sock, r));
      chmodSync(sock, 0o000);
      const script = path.join(dir, 'ping-as-nobody.mts');
      const connection = pathToFileURL(path.resolve('app/docker/connection.ts')).href;
      const schema = pathToFileURL(path.resolve('app/config/schema.ts')).href;
      writeFileSync(
        script,
        `import { pingDocker } from ${JSON.stringify(connection)};
         import { PanelConfigSchema } from ${JSON.stringify(schema)};
         const p = await pingDocker(PanelConfigSchema.parse({ docker: { host: 'unix://${sock}', timeoutMs: 3000 } }));
         console.log(JSON.stringify(p));`,
        { mode: 0o644 },
      );
      try {
        const { stdout } = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', script], {
          cwd: process.cwd(),
          env: { ...process.env, HOME: dir, TSX_TSCONFIG_PATH: path.resolve('tsconfig.json') },
        });
        const p = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
        expect(p.problem.kind).toBe('permission-denied');
        expect(p.problem.fix).toMatch(/docker group/);
      } finally {
        srv.close();
      }
    },
  );
});

const d = await requireDocker();

describe.skipIf(!d.ok)('engine failures, produced for real', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const names = [uniqueName('docker-fail'), uniqueName('docker-fail'), uniqueName('docker-fail')] as const;
  let image = '';
  beforeAll(async () => {
    image = await ensureDoubleImage(docker);
  });
  afterAll(() => removeContainers(docker, [...names]));

  it('pings the real engine directly and through a Docker context read from a fake HOME', async () => {
    const host = d.ok ? d.host : '';
    expect(await pingAt(host)).toMatchObject({ ok: true, source: 'config', serverVersion: expect.any(String), apiVersion: expect.any(String) });
    const home = path.join(dir, 'home');
    const meta = path.join(home, '.docker', 'contexts', 'meta', createHash('sha256').update('panel-test').digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: 'panel-test', Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
    writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: 'panel-test' }));
    const viaContext = await pingDocker(PanelConfigSchema.parse({}), { HOME: home, PATH: process.env.PATH });
    expect(viaContext).toMatchObject({ ok: true, source: 'context', context: 'panel-test', host });
  });

  it('a missing image: no-such-image', async () => {
    const m = new ContainerManager(testConfig({ name: names[0], image: 'docker-fail-missing:never', hostPort: await freePort() }), docker);
    await expect(m.create()).rejects.toMatchObject({ problem: { kind: 'no-such-image' } });
  });

  it('a name already taken by another container: name-conflict', async () => {
    await docker.createContainer({ name: names[0], Image: image });
    const m = new ContainerManager(testConfig({ name: names[0], image, hostPort: await freePort() }), docker);
    const err = await m.create().catch((e: unknown) => e);
    expect(err).toMatchObject({ problem: { kind: 'name-conflict' }, code: 'docker-name-conflict' });
    expect((err as Error).message).toContain(names[0]);
  });

  it('a host port already in use: port-in-use', async () => {
    const port = await freePort();
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    try {
      const m = new ContainerManager(testConfig({ name: names[1], image, hostPort: port }), docker);
      const err = await m.start().catch((e: unknown) => e);
      expect(err).toMatchObject({ problem: { kind: 'port-in-use' } });
      expect((err as { problem: { fix: string } }).problem.fix).toContain(String(port));
    } finally {
      srv.close();
    }
  });

  it('a GPU request on an engine without the NVIDIA runtime: nvidia-runtime-missing', async () => {
    const m = new ContainerManager(testConfig({ name: names[2], image, hostPort: await freePort(), extra: { gpus: 'all' } }), docker);
    await expect(m.start()).rejects.toMatchObject({ problem: { kind: 'nvidia-runtime-missing', fix: expect.stringMatching(/NVIDIA Container Toolkit/) } });
  });
});
