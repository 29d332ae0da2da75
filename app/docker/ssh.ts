import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import SSHConfig from 'ssh-config';
import ssh2, { type AnyAuthMethod, type ClientChannel, type ParsedKey } from 'ssh2';
import type { DockerProblem } from '../contract/ops/container.js';
import { ConfigError } from '../errors.js';
import { redact } from '../redact.js';
import { hostKeyAlgorithms, knownHostEntries, knownHostsName, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';
import { DockerError } from './problems.js';

/**
 * Docker over ssh the way the docker CLI does it: an ssh session per engine connection runs
 * `docker system dial-stdio` on the remote host, whose stdin/stdout carry the Engine API.
 * Unlike docker-modem's own ssh transport (a new ssh connection per request, no
 * ~/.ssh/config, and a crash on the first request timeout) this reads the operator's ssh
 * config and known_hosts, authenticates with the agent and identity files, shares one ssh
 * connection per host between all engines and clients of the process, and turns every
 * failure into a DockerError with a fix.
 */

/** Where and how to reach one ssh engine, after ~/.ssh/config. */
export interface SshEndpoint {
  /** As configured: ssh://[user@]host[:port]. */
  url: string;
  /** The host as written in the URL (a ~/.ssh/config Host alias or a real name). */
  alias: string;
  /** The address connected to (HostName). */
  host: string;
  port: number;
  username: string;
  /** Private key files to offer, in order (IdentityFile, else the default names that exist). */
  identityFiles: string[];
  /** ssh-agent socket (SSH_AUTH_SOCK or IdentityAgent), if any. */
  agent?: string;
  knownHostsFiles: string[];
  /** The name looked up in known_hosts: HostKeyAlias, else HostName with the port when not 22. */
  hostKeyName: string;
  /** StrictHostKeyChecking no / accept-new: a host missing from known_hosts is accepted (a changed key never is). */
  acceptUnknownHost: boolean;
  /** The ssh config file read, if there was one. */
  configFile?: string;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? env.USERPROFILE ?? os.homedir();
}

function localUser(env: NodeJS.ProcessEnv): string {
  return env.USER ?? env.LOGNAME ?? env.USERNAME ?? os.userInfo().username;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** ssh_config(5) tokens and `~`, for the values that are paths. */
function expand(value: string, t: { home: string; host: string; port: number; user: string; local: string }): string {
  const replaced = value.replace(/%([%dhpru])/g, (_, c: string) => ({ '%': '%', d: t.home, h: t.host, p: String(t.port), r: t.user, u: t.local })[c] ?? '');
  return replaced.startsWith('~/') ? path.join(t.home, replaced.slice(2)) : replaced;
}

/**
 * Resolves an ssh:// Docker host through the operator's ~/.ssh/config (Host aliases; HostName,
 * User, Port, IdentityFile, IdentityAgent, UserKnownHostsFile, GlobalKnownHostsFile,
 * StrictHostKeyChecking, HostKeyAlias). The URL's user and port win over the config's, as
 * `ssh -l user -p port` would. `Match exec` is never run.
 */
export function resolveSshEndpoint(url: string, env: NodeJS.ProcessEnv = process.env): SshEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`Docker host "${url}" is not a valid ssh:// URL`, 'Write it as ssh://user@host or ssh://user@host:port (a ~/.ssh/config Host alias works as host).');
  }
  if (u.password) {
    throw new ConfigError(`Docker host ${redact(url.replace(/:[^:@/]*@/, ':***@'))} carries a password`, 'Passwords are not used for ssh engines: load a key into ssh-agent or name an IdentityFile in ~/.ssh/config, and remove the password from docker.host.');
  }
  const alias = decodeURIComponent(u.hostname).replace(/^\[|\]$/g, '');
  const home = homeOf(env);
  const local = localUser(env);
  const configFile = path.join(home, '.ssh', 'config');
  let c: Record<string, string | string[]> = {};
  if (existsSync(configFile)) {
    try {
      c = SSHConfig.parse(readFileSync(configFile, 'utf8')).compute(alias, { ignoreCase: true, matchExec: false });
    } catch (e) {
      throw new ConfigError(`${configFile} could not be read: ${(e as Error).message}`, 'Fix the file (`ssh -G <host>` shows how OpenSSH reads it).');
    }
  }
  for (const key of ['proxyjump', 'proxycommand'] as const) {
    const v = first(c[key]);
    if (v && v.toLowerCase() !== 'none') {
      throw new ConfigError(
        `${configFile} reaches ${alias} through ${key === 'proxyjump' ? 'ProxyJump' : 'ProxyCommand'} ${v}, which the panel cannot follow`,
        `Forward the remote socket yourself (\`ssh -NL /tmp/${alias}-docker.sock:/var/run/docker.sock ${alias}\`) and set docker.host to unix:///tmp/${alias}-docker.sock, or give the panel a Host entry it can reach directly.`,
      );
    }
  }
  const hostName = first(c.hostname);
  const port = Number(u.port || first(c.port) || 22);
  const username = decodeURIComponent(u.username) || first(c.user) || local;
  const host = hostName ? expand(hostName, { home, host: alias, port, user: username, local }) : alias;
  const tokens = { home, host, port, user: username, local };

  const configured = all(c.identityfile).filter((f) => f.toLowerCase() !== 'none').map((f) => expand(f, tokens));
  const identityFiles = (configured.length ? configured : DEFAULT_IDENTITIES.map((n) => path.join(home, '.ssh', n))).filter((f) => existsSync(f));

  const identityAgent = first(c.identityagent);
  const agent =
    identityAgent?.toLowerCase() === 'none' ? undefined : identityAgent && identityAgent !== 'SSH_AUTH_SOCK' ? expand(identityAgent.replace(/^\$/, ''), tokens) : env.SSH_AUTH_SOCK || undefined;

  const split = (v: string | string[] | undefined) => all(v).flatMap((s) => s.split(/\s+/)).filter(Boolean).map((f) => expand(f, tokens));
  const userKnown = split(c.userknownhostsfile);
  const globalKnown = split(c.globalknownhostsfile);
  const knownHostsFiles = [
    ...(userKnown.length ? userKnown : [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]),
    ...(globalKnown.length ? globalKnown : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
  ];
  const strict = (first(c.stricthostkeychecking) ?? 'ask').toLowerCase();
  const alias_ = first(c.hostkeyalias);
  return {
    url,
    alias,
    host,
    port,
    username,
    identityFiles,
    ...(agent ? { agent } : {}),
    knownHostsFiles,
    hostKeyName: alias_ ? alias_ : knownHostsName(host, port),
    acceptUnknownHost: strict === 'no' || strict === 'off' || strict === 'accept-new',
    ...(existsSync(configFile) ? { configFile } : {}),
  };
}

const where = (e: SshEndpoint) => `${e.username}@${e.host}:${e.port}${e.alias !== e.host ? ` (ssh config Host ${e.alias})` : ''}`;
const sshCommand = (e: SshEndpoint) => `ssh ${e.alias !== e.host ? e.alias : `-p ${e.port} ${e.username}@${e.host}`}`;

function problem(kind: DockerProblem['kind'], message: string, fix: string, cause?: unknown): DockerError {
  return new DockerError({ kind, message: redact(message), fix }, { cause });
}

/** The keys to offer, each parsed once; an encrypted key cannot be used without a prompt and is skipped with a note. */
function authMethods(e: SshEndpoint, notes: string[]): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (e.agent) {
    if (existsSync(e.agent)) methods.push({ type: 'agent', username: e.username, agent: e.agent });
    else notes.push(`the ssh-agent socket ${e.agent} does not exist`);
  }
  for (const file of e.identityFiles) {
    let parsed: ParsedKey | ParsedKey[] | Error;
    try {
      parsed = ssh2.utils.parseKey(readFileSync(file));
    } catch (err) {
      notes.push(`${file} cannot be read (${(err as Error).message})`);
      continue;
    }
    if (parsed instanceof Error) {
      notes.push(/encrypted|passphrase/i.test(parsed.message) ? `${file} is passphrase-protected (add it to ssh-agent: \`ssh-add ${file}\`)` : `${file} is not a usable private key (${parsed.message})`);
      continue;
    }
    const keys: ParsedKey[] = Array.isArray(parsed) ? (parsed as ParsedKey[]) : [parsed];
    for (const key of keys) methods.push({ type: 'publickey', username: e.username, key });
  }
  return methods;
}

function hostKeyProblem(e: SshEndpoint, v: Exclude<HostKeyVerdict, { ok: true }>): DockerError {
  const files = e.knownHostsFiles.filter((f) => existsSync(f));
  switch (v.reason) {
    case 'unknown':
      return problem(
        'ssh-host-unknown',
        `The ssh host key of ${where(e)} (${v.fingerprint}) is not in known_hosts (${files.join(', ') || e.knownHostsFiles[0]}); the panel does not trust hosts on first use`,
        `Check that ${v.fingerprint} is the server's key (on the server: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), then connect once with \`${sshCommand(e)}\` and answer yes, or add it with \`ssh-keyscan -p ${e.port} ${e.host} >> ~/.ssh/known_hosts\`.`,
      );
    case 'changed':
      return problem(
        'ssh-host-key-changed',
        `The ssh host key of ${where(e)} changed: it presented ${v.fingerprint}, known_hosts has another key (${v.where}). Someone may be intercepting the connection; the panel refuses to connect`,
        `If the server was reinstalled or its keys replaced on purpose, remove the old entry (\`ssh-keygen -R '${e.hostKeyName}'\`) and accept the new key with \`${sshCommand(e)}\`; otherwise ask the server's administrator before connecting.`,
      );
    case 'revoked':
      return problem(
        'ssh-host-key-changed',
        `The ssh host key of ${where(e)} (${v.fingerprint}) is marked @revoked in ${v.where}; the panel refuses to connect`,
        `Ask the server's administrator for the current key; do not remove the @revoked line.`,
      );
  }
}

function connectProblem(e: SshEndpoint, err: Error & { code?: string; level?: string }, notes: string[]): DockerError {
  if (err.level === 'client-authentication') {
    const tried = [e.agent && existsSync(e.agent) ? `ssh-agent at ${e.agent}` : undefined, ...e.identityFiles.filter((f) => !notes.some((n) => n.startsWith(f)))].filter(Boolean);
    return problem(
      'ssh-auth-failed',
      `ssh to ${where(e)} refused every key offered (${tried.length ? tried.join(', ') : 'no agent and no identity file'})${notes.length ? `; ${notes.join('; ')}` : ''}`,
      `Put your public key in ~${e.username}/.ssh/authorized_keys on ${e.host} (\`ssh-copy-id ${e.alias !== e.host ? e.alias : `-p ${e.port} ${e.username}@${e.host}`}\`), load the key into ssh-agent (\`ssh-add\`), or name it with IdentityFile under Host ${e.alias} in ~/.ssh/config. \`${sshCommand(e)} docker version\` must work without a prompt.`,
      err,
    );
  }
  const how =
    err.code === 'ECONNREFUSED'
      ? 'connection refused: no ssh server listens there'
      : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? `the name ${e.host} does not resolve`
        : err.level === 'client-timeout' || err.code === 'ETIMEDOUT'
          ? 'no ssh handshake in time (a firewall, a wrong port, or the host is down)'
          : err.message;
  return problem(
    'ssh-unreachable',
    `Cannot reach the ssh server of the Docker engine at ${where(e)}: ${how}`,
    `Check the host and port (docker.host, or HostName/Port under Host ${e.alias} in ~/.ssh/config), that sshd runs on ${e.host}, and that \`${sshCommand(e)} docker version\` works from this machine.`,
    err,
  );
}

/** What a failed `docker system dial-stdio` on the remote side means. */
export function remoteDockerProblem(e: SshEndpoint, exitCode: number | undefined, stderr: string): DockerError {
  const said = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400);
  if (exitCode === 127 || /command not found|not found|No such file or directory.*docker$/i.test(said)) {
    return problem(
      'ssh-remote-docker',
      `The docker command is not available to ${e.username} on ${e.host} (\`docker system dial-stdio\` exited ${exitCode ?? '?'}${said ? `: ${said}` : ''})`,
      `Install the Docker CLI on ${e.host} (it comes with Docker Engine) so that \`${sshCommand(e)} docker version\` works; a non-interactive ssh session must find it on PATH.`,
    );
  }
  if (/permission denied/i.test(said)) {
    return problem(
      'permission-denied',
      `${e.username} on ${e.host} may not use the Docker engine there: ${said}`,
      `On ${e.host}: \`sudo usermod -aG docker ${e.username}\`, then reconnect (the panel opens a new ssh session).`,
    );
  }
  if (/cannot connect to the docker daemon|connect: no such file|connection refused|dial unix|is the docker daemon running/i.test(said)) {
    return problem(
      'daemon-not-running',
      `The Docker engine on ${e.host} is not running (the remote docker CLI says: ${said})`,
      `Start Docker on ${e.host}: \`${sshCommand(e)} sudo systemctl start docker\` (or start Docker Desktop there). If it runs on another socket, set DOCKER_HOST for ${e.username}'s ssh sessions on that host.`,
    );
  }
  return problem(
    'ssh-remote-docker',
    `\`docker system dial-stdio\` failed on ${e.host} (exit ${exitCode ?? 'unknown'}${said ? `: ${said}` : ''})`,
    `Run \`${sshCommand(e)} docker system info\` to see the remote side's error.`,
  );
}

/** How long a kept-alive dial-stdio channel waits for the next request before it closes. */
const FREE_CHANNEL_MS = 5_000;

/**
 * One dial-stdio session as the socket an http.Agent hands to a request. Node's HTTP client
 * calls socket methods (setTimeout, setNoDelay, ref/unref, ...) that an ssh channel lacks; a
 * remote failure before any byte of response is reported as its DockerError, not as "socket
 * hang up". The agent keeps it alive between requests (a new session costs a remote shell
 * and a docker CLI start); unref() marks it free, and a free one closes after FREE_CHANNEL_MS.
 */
export class DialStdioSocket extends Duplex {
  private stderr = '';
  private exitCode: number | undefined;
  private received = false;
  private idle: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private free: NodeJS.Timeout | undefined;

  constructor(
    private readonly channel: ClientChannel,
    private readonly failure: (exitCode: number | undefined, stderr: string) => Error,
    /** Told when the socket becomes free (true) or is used again (false). */
    private readonly onFree: (free: boolean) => void = () => undefined,
  ) {
    super({ allowHalfOpen: true });
    channel.on('data', (d: Buffer) => {
      this.received = true;
      this.touch();
      if (!this.push(d)) channel.pause();
    });
    channel.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4000);
    });
    channel.on('exit', (code: number | null) => {
      this.exitCode = code ?? undefined;
    });
    // Wait for the channel to close (after its exit status) before ending, to know why it ended.
    channel.on('close', () => {
      clearTimeout(this.idle);
      clearTimeout(this.free);
      if (this.destroyed) return;
      if (!this.received && (this.exitCode !== 0 || this.stderr)) this.destroy(this.failure(this.exitCode, this.stderr));
      else this.push(null);
    });
    channel.on('error', (err: Error) => this.destroy(err));
  }

  override _read(): void {
    this.channel.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.touch();
    if (this.channel.write(chunk)) done();
    else this.channel.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.channel.end();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    clearTimeout(this.idle);
    clearTimeout(this.free);
    this.channel.close();
    done(err);
  }

  /** net.Socket#setTimeout: 'timeout' after ms without traffic (0 turns it off). */
  setTimeout(ms: number, onTimeout?: () => void): this {
    this.idleMs = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.idle);
    if (this.idleMs > 0 && !this.destroyed) this.idle = setTimeout(() => this.emit('timeout'), this.idleMs).unref();
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /** The agent takes the socket for a request. */
  ref(): this {
    clearTimeout(this.free);
    this.free = undefined;
    this.onFree(false);
    return this;
  }

  /** The agent keeps the socket for later: it must not hold the process open, and closes if unused. */
  unref(): this {
    if (this.free || this.destroyed) return this;
    this.onFree(true);
    this.free = setTimeout(() => this.destroy(), FREE_CHANNEL_MS).unref();
    return this;
  }
}

interface Connection {
  key: string;
  client: InstanceType<typeof ssh2.Client>;
  sock: net.Socket;
  ready: Promise<void>;
  /** Open channels, and those of them in use (not parked by the HTTP agent). */
  channels: number;
  busy: number;
  gone: boolean;
  idle?: NodeJS.Timeout;
}

export interface SshPoolOptions {
  /** Close a connection this long after its last channel closed. Default 15 s. */
  idleMs?: number;
  /** Channels per connection before another connection to the same host is opened; OpenSSH's MaxSessions is 10. Default 8. */
  maxChannels?: number;
  /** ssh handshake and authentication limit. Default 20 s. */
  readyTimeoutMs?: number;
}

/**
 * ssh connections shared by every engine on the same host and user: each engine connection
 * (one HTTP request, a stream, an exec) is a channel on it. A connection without channels
 * does not keep the process alive, and closes after idleMs.
 */
export class SshConnectionPool {
  private readonly byKey = new Map<string, Connection[]>();
  private readonly idleMs: number;
  private readonly maxChannels: number;
  private readonly readyTimeoutMs: number;

  constructor(opts: SshPoolOptions = {}) {
    this.idleMs = opts.idleMs ?? 15_000;
    this.maxChannels = opts.maxChannels ?? 8;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  }

  /** Open connections per `user@host:port`, for diagnostics and tests. */
  connections(): Record<string, { connections: number; channels: number; busy: number }> {
    const sum = (list: Connection[], f: (c: Connection) => number) => list.reduce((n, c) => n + f(c), 0);
    return Object.fromEntries([...this.byKey].map(([k, list]) => [k, { connections: list.length, channels: sum(list, (c) => c.channels), busy: sum(list, (c) => c.busy) }]));
  }

  /** Opens `docker system dial-stdio` on the remote host: a socket speaking the Engine API. */
  async dialDocker(e: SshEndpoint): Promise<DialStdioSocket> {
    const conn = this.acquire(e);
    let channel: ClientChannel;
    try {
      await conn.ready;
      channel = await new Promise<ClientChannel>((resolve, reject) => {
        conn.client.exec('docker system dial-stdio', (err, ch) => (err ? reject(err) : resolve(ch)));
      });
    } catch (err) {
      this.release(conn);
      if (err instanceof DockerError) throw err;
      throw problem('ssh-unreachable', `The ssh server at ${where(e)} refused a session for \`docker system dial-stdio\`: ${(err as Error).message}`, `Check sshd's MaxSessions and that ${e.username} may run commands on ${e.host} (\`${sshCommand(e)} docker version\`).`, err);
    }
    let free = false;
    channel.once('close', () => this.release(conn, free));
    return new DialStdioSocket(
      channel,
      (code, stderr) => remoteDockerProblem(e, code, stderr),
      (nowFree) => {
        if (nowFree === free) return;
        free = nowFree;
        this.setBusy(conn, free ? -1 : 1);
      },
    );
  }

  private readonly agents = new Map<string, SshDockerAgent>();

  /** The HTTP agent for an ssh:// engine; one per engine and environment, so every client of it shares kept-alive channels. */
  agentFor(url: string, env: NodeJS.ProcessEnv): SshDockerAgent {
    const key = JSON.stringify([url, env.HOME, env.USERPROFILE, env.SSH_AUTH_SOCK]);
    let agent = this.agents.get(key);
    if (!agent) this.agents.set(key, (agent = new SshDockerAgent(url, this, env)));
    return agent;
  }

  /** Closes every connection (their channels fail). */
  close(): void {
    for (const list of this.byKey.values()) for (const c of list) this.drop(c);
  }

  private acquire(e: SshEndpoint): Connection {
    const key = `${e.username}@${e.host}:${e.port}`;
    const list = this.byKey.get(key) ?? [];
    this.byKey.set(key, list);
    const conn = list.find((c) => !c.gone && c.channels < this.maxChannels) ?? this.open(key, e, list);
    conn.channels++;
    this.setBusy(conn, 1);
    return conn;
  }

  /** Only channels in use keep the process alive; a connection with no channel at all closes after idleMs. */
  private setBusy(conn: Connection, delta: number): void {
    conn.busy += delta;
    if (conn.busy > 0) conn.sock.ref();
    else conn.sock.unref();
  }

  private release(conn: Connection, wasFree = false): void {
    conn.channels--;
    if (!wasFree) this.setBusy(conn, -1);
    clearTimeout(conn.idle);
    if (conn.channels > 0 || conn.gone) return;
    conn.idle = setTimeout(() => this.drop(conn), this.idleMs).unref();
  }

  private drop(conn: Connection): void {
    conn.gone = true;
    clearTimeout(conn.idle);
    const list = this.byKey.get(conn.key);
    if (list) {
      list.splice(list.indexOf(conn) >>> 0, 1);
      if (list.length === 0) this.byKey.delete(conn.key);
    }
    conn.client.end();
    conn.sock.destroy();
  }

  private open(key: string, e: SshEndpoint, list: Connection[]): Connection {
    const client = new ssh2.Client();
    const sock = net.connect({ host: e.host, port: e.port });
    // TCP keepalive instead of ssh2's: its interval timer would hold the process open while idle.
    sock.setKeepAlive(true, 15_000);
    const notes: string[] = [];
    const entries = knownHostEntries(e.knownHostsFiles, e.hostKeyName);
    const algorithms = hostKeyAlgorithms(entries);
    let refused: DockerError | undefined;
    const conn: Connection = { key, client, sock, channels: 0, busy: 0, gone: false, ready: Promise.resolve() };
    conn.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      client.on('ready', () => {
        settled = true;
        resolve();
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (err.level === 'agent') return void notes.push(`ssh-agent failed: ${err.message}`);
        if (!settled) {
          settled = true;
          reject(refused ?? connectProblem(e, err, notes));
        }
        this.drop(conn);
      });
      client.on('close', () => {
        if (!settled) {
          settled = true;
          reject(refused ?? connectProblem(e, Object.assign(new Error('the connection closed during the handshake'), { code: 'ECONNRESET' }), notes));
        }
        if (!conn.gone) this.drop(conn);
      });
    });
    // The rejection is handled by whoever awaits `ready`; none may be left unobserved meanwhile.
    conn.ready.catch(() => undefined);
    const methods = authMethods(e, notes);
    client.connect({
      sock,
      username: e.username,
      readyTimeout: this.readyTimeoutMs,
      keepaliveInterval: 0,
      authHandler: methods,
      ...(algorithms.length ? { algorithms: { serverHostKey: algorithms as never } } : {}),
      hostVerifier: (key: Buffer) => {
        const v = verifyHostKey(entries, key, e.acceptUnknownHost);
        if (!v.ok) refused = hostKeyProblem(e, v);
        return v.ok;
      },
    });
    if (methods.length === 0) notes.push(`no key to offer: no ssh-agent (SSH_AUTH_SOCK) and none of ${e.identityFiles.length ? e.identityFiles.join(', ') : DEFAULT_IDENTITIES.map((n) => `~/.ssh/${n}`).join(', ')} usable`);
    list.push(conn);
    return conn;
  }
}

/**
 * The http.Agent docker-modem sends every request through: each request gets its own
 * dial-stdio channel on the pool's shared connection. The endpoint is resolved on first use
 * (a broken ~/.ssh/config fails the request, not the process) and kept.
 */
export class SshDockerAgent extends http.Agent {
  private endpoint: SshEndpoint | undefined;

  constructor(
    private readonly url: string,
    private readonly pool: SshConnectionPool,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    // Kept alive: a new dial-stdio session costs a remote shell and a docker CLI start.
    super({ keepAlive: true });
  }

  resolve(): SshEndpoint {
    return (this.endpoint ??= resolveSshEndpoint(this.url, this.env));
  }

  override createConnection(_options: net.NetConnectOpts, onCreate: (err: Error | null, socket: Duplex) => void): undefined {
    let endpoint: SshEndpoint;
    try {
      endpoint = this.resolve();
    } catch (err) {
      process.nextTick(() => onCreate(err as Error, undefined as never));
      return undefined;
    }
    this.pool.dialDocker(endpoint).then(
      (socket) => onCreate(null, socket),
      (err: Error) => onCreate(err, undefined as never),
    );
    return undefined;
  }
}

