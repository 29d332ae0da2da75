import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { connectDocker, pingDocker } from '../../app/docker/connection.js';
import { fingerprintOf, knownHostEntries, verifyHostKey } from '../../app/docker/known-hosts.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { resolveSshEndpoint, SshConnectionPool } from '../../app/docker/ssh.js';
import { ConfigError } from '../../app/errors.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { requireSshEngine, startSshEngine, type SshEngine } from '../support/ssh-engine.js';
import { freePort, makeSecret, removeContainers, testConfig, uniqueName } from './helpers.js';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'docker-ssh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A home folder with the given ~/.ssh files. */
function home(name: string, files: Record<string, string>): string {
  const h = path.join(tmp, name);
  mkdirSync(path.join(h, '.ssh'), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(h, '.ssh', f), text, { mode: 0o600 });
  return h;
}

describe('resolveSshEndpoint: ~/.ssh/config like OpenSSH', () => {
  const h = home('cfg', {
    config: [
      'Host gpu1',
      '  HostName 10.0.0.21',
      '  User ops',
      '  Port 2222',
      '  IdentityFile ~/.ssh/gpu_key',
      '  IdentityFile %d/.ssh/other_%r',
      'Host *.lab',
      '  User lab',
      '  StrictHostKeyChecking accept-new',
      '  UserKnownHostsFile ~/.ssh/lab_hosts',
      'Host jump-only',
      '  ProxyJump bastion',
      'Host *',
      '  User fallback',
      '',
    ].join('\n'),
    gpu_key: 'x',
    other_ops: 'x',
    id_ed25519: 'x',
  });
  const env = { HOME: h, USER: 'me' };

  it('an alias takes HostName, User, Port and every IdentityFile (with ~ and % tokens), first value winning', () => {
    expect(resolveSshEndpoint('ssh://gpu1', env)).toMatchObject({
      alias: 'gpu1',
      host: '10.0.0.21',
      port: 2222,
      username: 'ops',
      identityFiles: [path.join(h, '.ssh', 'gpu_key'), path.join(h, '.ssh', 'other_ops')],
      hostKeyName: '[10.0.0.21]:2222',
      acceptUnknownHost: false,
    });
  });

  it("the URL's user and port win over the config's, as `ssh -l user -p port` would", () => {
    expect(resolveSshEndpoint('ssh://root@gpu1:22', env)).toMatchObject({ host: '10.0.0.21', port: 22, username: 'root', hostKeyName: '10.0.0.21' });
  });

  it('patterns, StrictHostKeyChecking, UserKnownHostsFile and the default identity files', () => {
    const e = resolveSshEndpoint('ssh://box.lab', env);
    expect(e).toMatchObject({ host: 'box.lab', port: 22, username: 'lab', acceptUnknownHost: true, identityFiles: [path.join(h, '.ssh', 'id_ed25519')] });
    expect(e.knownHostsFiles[0]).toBe(path.join(h, '.ssh', 'lab_hosts'));
    expect(resolveSshEndpoint('ssh://plain', env)).toMatchObject({ host: 'plain', username: 'fallback' });
  });

  it('without any ssh config: the local user, port 22, the agent from SSH_AUTH_SOCK', () => {
    expect(resolveSshEndpoint('ssh://host.example', { HOME: path.join(tmp, 'nohome'), USER: 'me', SSH_AUTH_SOCK: '/run/agent' })).toMatchObject({
      host: 'host.example',
      port: 22,
      username: 'me',
      agent: '/run/agent',
      identityFiles: [],
    });
  });

  it('a ProxyJump it cannot follow, or a password in the URL, is a clear config error', () => {
    expect(() => resolveSshEndpoint('ssh://jump-only', env)).toThrow(ConfigError);
    expect(() => resolveSshEndpoint('ssh://jump-only', env)).toThrow(/ProxyJump bastion, which the panel cannot follow/);
    let err: unknown;
    try {
      resolveSshEndpoint('ssh://ops:hunter2@gpu1', env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).not.toContain('hunter2');
  });
});

describe('known_hosts (real files written by ssh-keygen)', () => {
  let keyA: Buffer;
  let keyB: Buffer;
  let lineA: string;
  beforeAll(async () => {
    for (const k of ['a', 'b']) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, `hk-${k}`)]);
    const pub = (k: string) => readFileSync(path.join(tmp, `hk-${k}.pub`), 'utf8').trim().split(' ');
    keyA = Buffer.from(pub('a')[1]!, 'base64');
    keyB = Buffer.from(pub('b')[1]!, 'base64');
    lineA = pub('a').slice(0, 2).join(' ');
  });

  it('matches plain names, [host]:port, wildcards and negations; a listed key passes, another key is "changed"', () => {
    const file = path.join(tmp, 'kh-plain');
    writeFileSync(file, `# comment\n[10.0.0.5]:2222 ${lineA}\n*.lab,!bad.lab ${lineA}\n`);
    expect(verifyHostKey(knownHostEntries([file], '[10.0.0.5]:2222'), keyA, false)).toEqual({ ok: true, known: true });
    expect(knownHostEntries([file], '10.0.0.5')).toEqual([]);
    expect(knownHostEntries([file], 'gpu.lab')).toHaveLength(1);
    expect(knownHostEntries([file], 'bad.lab')).toEqual([]);
    const changed = verifyHostKey(knownHostEntries([file], 'gpu.lab'), keyB, true);
    expect(changed).toMatchObject({ ok: false, reason: 'changed', fingerprint: fingerprintOf(keyB), where: `${file}:3` });
  });

  it('reads names hashed by `ssh-keygen -H`', async () => {
    const file = path.join(tmp, 'kh-hashed');
    writeFileSync(file, `[127.0.0.1]:2200 ${lineA}\n`);
    await run('ssh-keygen', ['-q', '-H', '-f', file]);
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    expect(verifyHostKey(knownHostEntries([file], '[127.0.0.1]:2200'), keyA, false)).toEqual({ ok: true, known: true });
    expect(knownHostEntries([file], '[127.0.0.1]:2201')).toEqual([]);
  });

  it('an unknown host passes only under accept-new/no; a @revoked key never does', () => {
    expect(verifyHostKey([], keyA, false)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(verifyHostKey([], keyA, true)).toEqual({ ok: true, known: false });
    const file = path.join(tmp, 'kh-revoked');
    writeFileSync(file, `@revoked * ${lineA}\n`);
    expect(verifyHostKey(knownHostEntries([file], 'any.host'), keyA, true)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('its fingerprints read like ssh-keygen -l', async () => {
    const { stdout } = await run('ssh-keygen', ['-l', '-f', path.join(tmp, 'hk-a.pub')]);
    expect(stdout).toContain(fingerprintOf(keyA));
  });
});

const d = await requireDocker();
const s = d.ok ? await requireSshEngine({ agent: true }) : ({ ok: false, reason: 'no Docker engine' } as const);

describe.skipIf(!d.ok || !s.ok)('Docker over ssh against a real sshd running `docker system dial-stdio`', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  const engine: SshEngine = s.ok ? s.engine : (undefined as never);
  const pools: SshConnectionPool[] = [];
  const names: string[] = [];
  const newPool = () => {
    const p = new SshConnectionPool({ idleMs: 1000 });
    pools.push(p);
    return p;
  };
  const config = (host: string, timeoutMs = 20_000) => PanelConfigSchema.parse({ docker: { host, timeoutMs } });
  /** A client home without the key: only known_hosts (and config when given). */
  const agentOnlyEnv = () => ({ HOME: home(`agent-${names.length}`, { known_hosts: `${engine.knownHostsLine}\n` }), PATH: process.env.PATH, SSH_AUTH_SOCK: engine.env.SSH_AUTH_SOCK });

  afterAll(async () => {
    for (const p of pools) p.close();
    await removeContainers(docker, names);
    await engine?.stop();
  });

  it('reaches the engine through a ~/.ssh/config alias with its IdentityFile, with a request timeout set (it used to crash: sock.setTimeout is not a function)', async () => {
    const env = { ...engine.env, SSH_AUTH_SOCK: undefined };
    const p = await pingDocker(config(engine.url, 15_000), env, newPool());
    expect(p, engine.log()).toMatchObject({ ok: true, host: engine.url, serverVersion: (await docker.version()).Version });
  });

  it('authenticates with the ssh-agent alone (no key file anywhere)', async () => {
    const p = await pingDocker(config(engine.directUrl), agentOnlyEnv(), newPool());
    expect(p, engine.log()).toMatchObject({ ok: true });
  });

  it('one ssh connection per host: two engines configs and two clients each share it, and kept-alive channels', async () => {
    const pool = newPool();
    const before = (engine.log().match(/Accepted publickey/g) ?? []).length;
    const a = connectDocker(config(engine.url), engine.env, pool);
    const b = connectDocker(config(engine.directUrl), engine.env, pool);
    for (let round = 0; round < 3; round++) {
      await Promise.all([a.docker.ping(), a.streaming.listContainers(), b.docker.info(), b.streaming.version()]);
    }
    expect(pool.connections()).toEqual({ [`${engine.user}@127.0.0.1:${engine.port}`]: expect.objectContaining({ connections: 1 }) as unknown });
    expect((engine.log().match(/Accepted publickey/g) ?? []).length - before).toBe(1);
  });

  it('past the channels one connection may carry (OpenSSH MaxSessions 10), a second connection is opened instead of failing', async () => {
    const pool = newPool();
    const { docker: client } = connectDocker(config(engine.url), engine.env, pool);
    // Twelve concurrent requests: twelve channels at once.
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => client.version()));
    expect(results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : [])), engine.log()).toEqual([]);
    expect(Object.values(pool.connections())[0]?.connections).toBe(2);
  });

  it('runs the whole container lifecycle over ssh: create, start, events to healthy, exec, files, logs, stop, remove', { timeout: 180_000 }, async () => {
    const image = await ensureDoubleImage(docker);
    const name = uniqueName('docker-ssh');
    names.push(name);
    const secret = makeSecret('docker-ssh');
    try {
      // Generous limits: on a loaded machine a container start alone can take many seconds.
      const cfg = { ...testConfig({ name, image, hostPort: await freePort(), secretFile: secret.file }), docker: { host: engine.url, timeoutMs: 60_000 } };
      const m = new ContainerManager(cfg, undefined, undefined, engine.env);
      await m.start();
      expect((await m.waitFor('healthy', 120_000)).phase).toBe('healthy');
      expect(await m.exec(['node', '-e', 'process.stdout.write("over ssh")'])).toMatchObject({ exitCode: 0, stdout: 'over ssh' });
      expect((await m.readFile('/workspace/ComfyUI/login/PASSWORD')).toString('utf8')).toBe(`${secret.hash}\nqwen`);
      const lines: string[] = [];
      await m.logs({ tail: 'all', onLine: (l) => void lines.push(l.text) });
      expect(lines.join('\n')).toMatch(/To see the GUI go to/);
      expect((await m.stop()).phase).toBe('stopped');
      expect((await m.remove()).phase).toBe('absent');
    } finally {
      secret.cleanup();
    }
  });

  it('an unknown host key is refused with its fingerprint and how to check and add it', async () => {
    const env = { HOME: home('unknown', { known_hosts: '' }), PATH: process.env.PATH, SSH_AUTH_SOCK: engine.env.SSH_AUTH_SOCK };
    const p = await pingDocker(config(engine.directUrl), env, newPool());
    expect(p).toMatchObject({ ok: false, problem: { kind: 'ssh-host-unknown' } });
    expect(p.problem?.message).toMatch(/SHA256:[A-Za-z0-9+/]{43} is not in known_hosts|\(SHA256:[A-Za-z0-9+/]{43}\) is not in known_hosts/);
    expect(p.problem?.fix).toMatch(new RegExp(`ssh-keyscan -p ${engine.port} 127\\.0\\.0\\.1`));
  });

  it('StrictHostKeyChecking accept-new in ~/.ssh/config accepts an unknown host (without writing known_hosts)', async () => {
    const h = home('accept-new', { config: `Host *\n  StrictHostKeyChecking accept-new\n`, known_hosts: '' });
    const p = await pingDocker(config(engine.directUrl), { HOME: h, PATH: process.env.PATH, SSH_AUTH_SOCK: engine.env.SSH_AUTH_SOCK }, newPool());
    expect(p).toMatchObject({ ok: true });
    expect(readFileSync(path.join(h, '.ssh', 'known_hosts'), 'utf8')).toBe('');
  });

  it('a changed host key is refused even under StrictHostKeyChecking no: someone may be in the middle', async () => {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'impostor')]);
    const other = readFileSync(path.join(tmp, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const h = home('changed', { config: 'Host *\n  StrictHostKeyChecking no\n', known_hosts: `[127.0.0.1]:${engine.port} ${other}\n` });
    const p = await pingDocker(config(engine.directUrl), { HOME: h, PATH: process.env.PATH, SSH_AUTH_SOCK: engine.env.SSH_AUTH_SOCK }, newPool());
    expect(p).toMatchObject({ ok: false, problem: { kind: 'ssh-host-key-changed', message: expect.stringMatching(/changed.*refuses to connect/) as unknown } });
    expect(p.problem?.fix).toContain(`ssh-keygen -R '[127.0.0.1]:${engine.port}'`);
  });

  it('a key the server does not know: ssh-auth-failed naming what was offered; a passphrase key is named as skipped', async () => {
    const h = home('wrongkey', { known_hosts: `${engine.knownHostsLine}\n` });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(h, '.ssh', 'id_ed25519')]);
    await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', 'secret words', '-f', path.join(h, '.ssh', 'id_ecdsa')]);
    const p = await pingDocker(config(engine.directUrl), { HOME: h, PATH: process.env.PATH }, newPool());
    expect(p).toMatchObject({ ok: false, problem: { kind: 'ssh-auth-failed' } });
    expect(p.problem?.message).toContain(path.join(h, '.ssh', 'id_ed25519'));
    expect(p.problem?.message).toMatch(/id_ecdsa is passphrase-protected \(add it to ssh-agent/);
    expect(p.problem?.fix).toMatch(/ssh-copy-id -p \d+ /);
  });

  it('nothing listening on the ssh port: ssh-unreachable, not a crash', async () => {
    const port = await freePort();
    const h = home('unreach', { known_hosts: '' });
    const p = await pingDocker(config(`ssh://${engine.user}@127.0.0.1:${port}`), { HOME: h, PATH: process.env.PATH }, newPool());
    expect(p).toMatchObject({ ok: false, problem: { kind: 'ssh-unreachable', message: expect.stringContaining('connection refused') as unknown } });
  });

  /** The CLI from source in its own process, as an operator runs it, against a config file. */
  async function cliProcess(dockerSection: object, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const cfgDir = mkdtempSync(path.join(tmp, 'cli-'));
    const cfgFile = path.join(cfgDir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ docker: dockerSection, container: { name: uniqueName('docker-ssh-absent') } }));
    const main = path.join(cfgDir, 'cli.mts');
    // After the command: what still holds the process open (an idle ssh connection must not).
    writeFileSync(
      main,
      `import { runCli } from ${JSON.stringify(pathToFileURL(path.resolve('app/cli/main.ts')).href)};\n` +
        `process.exitCode = await runCli(process.argv.slice(2));\n` +
        `setImmediate(() => process.stderr.write('\\nACTIVE ' + JSON.stringify(process.getActiveResourcesInfo()) + '\\n'));\n`,
    );
    return run(process.execPath, ['--import', 'tsx', main, '-c', cfgFile, ...args], {
      env: { ...engine.env, COMFY_PANEL_HOME: cfgDir, TSX_TSCONFIG_PATH: path.resolve('tsconfig.json') },
      timeout: 90_000,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
  }

  it('the CLI over ssh, in its own process: JSON status works and the process exits by itself (the idle ssh connection does not hold it)', { timeout: 120_000 }, async () => {
    const r = await cliProcess({ host: engine.url, timeoutMs: 20_000 }, ['--json', 'container', 'status']);
    expect(JSON.parse(r.stdout), r.stderr).toMatchObject({ phase: 'absent' });
    const active = JSON.parse(/^ACTIVE (.*)$/m.exec(r.stderr)?.[1] ?? 'null') as string[] | null;
    expect(active, r.stderr).not.toBeNull();
    expect(active!.filter((t) => /TCP|Timeout/.test(t))).toEqual([]);
  });

  it('the CLI against an ssh engine that cannot be reached prints the DockerError and its fix, no stack trace', { timeout: 120_000 }, async () => {
    const r = await cliProcess({ host: `ssh://${engine.user}@127.0.0.1:${await freePort()}`, timeoutMs: 5000 }, ['container', 'status']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/Cannot reach the ssh server of the Docker engine at .*connection refused/);
    expect(r.stdout + r.stderr).not.toMatch(/TypeError|at .*\.[jt]s:\d+/);
  });
});

describe.skipIf(!d.ok || !s.ok)('the remote side of an ssh engine failing', () => {
  const engines: SshEngine[] = [];
  afterAll(async () => {
    for (const e of engines) await e.stop();
  });

  it('no docker CLI on the remote PATH: ssh-remote-docker, saying to install it', async () => {
    const e = await startSshEngine({ remotePath: '/nonexistent' });
    engines.push(e);
    const p = await pingDocker(PanelConfigSchema.parse({ docker: { host: e.url, timeoutMs: 20_000 } }), e.env, new SshConnectionPool({ idleMs: 500 }));
    expect(p, e.log()).toMatchObject({ ok: false, problem: { kind: 'ssh-remote-docker', fix: expect.stringContaining('Install the Docker CLI on 127.0.0.1') as unknown } });
  });

  it('the remote engine is not running: daemon-not-running with how to start Docker on that host, not locally', async () => {
    const e = await startSshEngine({ dockerHost: `unix://${path.join(tmp, 'no-engine.sock')}` });
    engines.push(e);
    const p = await pingDocker(PanelConfigSchema.parse({ docker: { host: e.url, timeoutMs: 20_000 } }), e.env, new SshConnectionPool({ idleMs: 500 }));
    expect(p, e.log()).toMatchObject({ ok: false, problem: { kind: 'daemon-not-running' } });
    expect(p.problem?.fix).toMatch(new RegExp(`Start Docker on 127\\.0\\.0\\.1: \`ssh ${e.alias} sudo systemctl start docker\``));
  });
});
