/**
 * A real Docker engine reached over ssh, for tests: Debian's OpenSSH server on a loopback port
 * with its own config, host key and a throw-away client key, all in a temp folder. The ssh
 * user's sessions get DOCKER_HOST (sshd's SetEnv), so `docker system dial-stdio` there talks
 * to the engine given (default: the tests' engine, DOCKER_HOST).
 *
 *   const e = await requireSshEngine();                 // skips outside CI when sshd is missing
 *   if (e.ok) {
 *     const config = { ...cfg, docker: { ...cfg.docker, host: e.engine.url } };  // ssh://user@alias
 *     connectDocker(config, e.engine.env);             // env: HOME with .ssh/{config,known_hosts,key}
 *   }
 *   await e.engine.stop();
 *
 * The ssh sessions run with HOME set to an empty folder of their own (see the SetEnv below).
 * The client side is a folder `home` holding `.ssh/config` (Host <alias>: HostName 127.0.0.1,
 * Port, User, IdentityFile), `.ssh/known_hosts` with the server's key, and `.ssh/id_ed25519`.
 * Run as root (CI), sshd needs /run/sshd, which is created when missing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

export interface SshEngine {
  /** `ssh://<user>@<alias>`: resolved through the client's ~/.ssh/config. */
  url: string;
  /** `ssh://<user>@127.0.0.1:<port>`: no config needed beyond known_hosts and a key. */
  directUrl: string;
  alias: string;
  user: string;
  port: number;
  /** The client's environment: HOME (with .ssh/), PATH; no SSH_AUTH_SOCK unless `agent` was asked for. */
  env: NodeJS.ProcessEnv;
  /** The client's home folder and its key files. */
  home: string;
  identityFile: string;
  /** The known_hosts line for this server. */
  knownHostsLine: string;
  /** The DOCKER_HOST the remote side's docker CLI uses. */
  dockerHost: string;
  /** sshd's log (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface SshEngineOptions {
  /** The engine the ssh user's docker CLI talks to; default DOCKER_HOST of the tests. */
  dockerHost?: string;
  /** The Host alias written to the client's ~/.ssh/config; default `engine-<port>`. */
  alias?: string;
  /** Start an ssh-agent holding the client key and put SSH_AUTH_SOCK in env (the key file stays too). */
  agent?: boolean;
  /** PATH of the ssh sessions (sshd's SetEnv), e.g. one without docker to play a host lacking the CLI. */
  remotePath?: string;
}

/** Resolves once something on the port speaks SSH (its banner). */
async function waitForBanner(port: number, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const banner = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.setTimeout(2000, () => s.destroy());
      s.once('data', (d) => (resolve(d.toString('utf8')), s.destroy()));
      s.once('error', () => resolve(''));
      s.once('close', () => resolve(''));
    });
    if (banner.startsWith('SSH-')) return;
    if (Date.now() > until) throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${timeoutMs} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function keygen(file: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', path.basename(file), '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

export async function startSshEngine(opts: SshEngineOptions = {}): Promise<SshEngine> {
  const dockerHost = opts.dockerHost ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ssh-engine-'));
  const home = path.join(dir, 'home');
  const sshDir = path.join(home, '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const user = os.userInfo().username;
  const hostKey = path.join(dir, 'host_ed25519');
  const identityFile = path.join(sshDir, 'id_ed25519');
  const [hostPub, clientPub] = await Promise.all([keygen(hostKey), keygen(identityFile)]);
  writeFileSync(path.join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const remoteHome = path.join(dir, 'remote-home');
  mkdirSync(remoteHome, { mode: 0o700 });

  let child: ChildProcess | undefined;
  let port = 0;
  let stderr = '';
  // A port picked free can be taken before sshd binds it: try a few.
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    const config = path.join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        'PidFile none',
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The temp folder's modes are not sshd's business here.
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        // What the remote docker CLI talks to: the private engine, not the system default. HOME:
        // bash run by sshd reads ~/.bashrc, and the ssh user's real one (e.g. root's pyenv init)
        // can cost seconds per session; an empty home also keeps its ~/.docker out of the tests.
        `SetEnv DOCKER_HOST=${dockerHost} HOME=${remoteHome}${opts.remotePath ? ` PATH=${opts.remotePath}` : ''}`,
        'MaxStartups 50',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    stderr = '';
    const c = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-20_000);
    });
    try {
      await waitForBanner(port, c, () => stderr);
      child = c;
    } catch (e) {
      c.kill('SIGKILL');
      if (attempt === 2) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
  const sshd = child!;

  const alias = opts.alias ?? `engine-${port}`;
  writeFileSync(path.join(sshDir, 'config'), `Host ${alias}\n  HostName 127.0.0.1\n  Port ${port}\n  User ${user}\n  IdentityFile ${identityFile}\n`, { mode: 0o600 });
  const knownHostsLine = `[127.0.0.1]:${port} ${hostPub.split(' ').slice(0, 2).join(' ')}`;
  writeFileSync(path.join(sshDir, 'known_hosts'), `${knownHostsLine}\n`, { mode: 0o600 });

  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH };
  let agentPid: number | undefined;
  if (opts.agent) {
    const sock = path.join(dir, 'agent.sock');
    const { stdout } = await run('ssh-agent', ['-s', '-a', sock]);
    agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(stdout)?.[1]);
    await run('ssh-add', ['-q', identityFile], { env: { ...env, SSH_AUTH_SOCK: sock } });
    env.SSH_AUTH_SOCK = sock;
  }

  return {
    url: `ssh://${user}@${alias}`,
    directUrl: `ssh://${user}@127.0.0.1:${port}`,
    alias,
    user,
    port,
    env,
    home,
    identityFile,
    knownHostsLine,
    dockerHost,
    log: () => stderr,
    async stop() {
      if (agentPid) {
        try {
          process.kill(agentPid);
        } catch {
          // already gone
        }
      }
      if (sshd.exitCode === null) {
        const exited = new Promise((r) => sshd.once('exit', r));
        sshd.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type SshEngineAvailability = { ok: true; engine: SshEngine } | { ok: false; reason: string };

/**
 * Starts an ssh engine, or says why not. Under CI a missing sshd is a hard failure; elsewhere
 * the caller skips and the reason is printed.
 */
export async function requireSshEngine(opts: SshEngineOptions = {}): Promise<SshEngineAvailability> {
  try {
    if (!existsSync(SSHD)) throw new Error(`${SSHD} not found (apt-get install openssh-server)`);
    return { ok: true, engine: await startSshEngine(opts) };
  } catch (e) {
    const reason = `no ssh engine: ${(e as Error).message}`;
    if (process.env.CI) throw new Error(`CI requires sshd for the ssh engine tests: ${reason}`, { cause: e });
    console.warn(`[skip] ssh engine tests: ${reason}`);
    return { ok: false, reason };
  }
}
