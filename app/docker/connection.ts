import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { DockerPing } from '../contract/ops/container.js';
import { deadline } from '../deadline.js';
import { ConfigError } from '../errors.js';
import { currentContextName, dockerConfigDir, readDockerContext } from './contexts.js';
import { withDeadlines } from './deadline.js';
import { classifyDockerError } from './problems.js';
import { SshConnectionPool, type SshDockerAgent } from './ssh.js';

export interface DockerTls {
  /** Verify the server certificate against ca.pem. */
  verify: boolean;
  /** Folder with ca.pem, cert.pem, key.pem. */
  certDir?: string;
}

export interface DockerTarget {
  host: string;
  source: DockerPing['source'];
  /** The Docker context name, when source is 'context'. */
  context?: string;
  tls?: DockerTls;
}

function defaultHost(): string {
  return process.platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';
}

function readIfExists(dir: string | undefined, file: string): Buffer | undefined {
  if (!dir) return undefined;
  const p = path.join(dir, file);
  return existsSync(p) ? readFileSync(p) : undefined;
}

/** docker-modem accepts an http(s) agent; @types/dockerode does not list it. */
type ModemOptions = Docker.DockerOptions & { agent?: https.Agent | SshDockerAgent };

/**
 * The process's ssh connections: every engine on the same host and user shares one (see
 * SshConnectionPool). A caller that needs its own (a test, a fleet runtime) passes one.
 */
export const processSshPool = new SshConnectionPool();

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  sshPool?: SshConnectionPool;
}

/**
 * Turns a Docker host URL into dockerode options. Every connection key is set explicitly:
 * docker-modem otherwise merges in DOCKER_HOST/DOCKER_CERT_PATH from the environment.
 */
export function modemOptions(target: DockerTarget, timeoutMs?: number, env: NodeJS.ProcessEnv = process.env, sshPool: SshConnectionPool = processSshPool): ModemOptions {
  let url: URL;
  try {
    url = new URL(target.host);
  } catch {
    throw new ConfigError(`Docker host "${target.host}" (from ${target.source}) is not a URL`, 'Use e.g. unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host.');
  }
  const base = { host: undefined, port: undefined, socketPath: undefined, ca: undefined, cert: undefined, key: undefined, timeout: timeoutMs };
  switch (url.protocol) {
    case 'unix:':
    case 'npipe:':
      return { ...base, socketPath: target.host.replace(/^(unix|npipe):\/\//, '') };
    case 'ssh:':
      // Plain HTTP over our own agent: each request is a `docker system dial-stdio` channel on a
      // shared ssh connection (docker-modem's ssh transport crashes on its first timeout).
      return { ...base, protocol: 'http', host: url.hostname, agent: sshPool.agentFor(target.host, env) };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = target.tls ?? (url.protocol === 'https:' ? { verify: true } : undefined);
      if (!tls) return { ...base, protocol: 'http', host: url.hostname, port: url.port || 2375 };
      const material = { ca: readIfExists(tls.certDir, 'ca.pem'), cert: readIfExists(tls.certDir, 'cert.pem'), key: readIfExists(tls.certDir, 'key.pem') };
      return {
        ...base,
        ...material,
        protocol: 'https',
        host: url.hostname,
        port: url.port || 2376,
        // docker-modem has no skip-verify switch; an agent carries it.
        agent: tls.verify ? undefined : new https.Agent({ rejectUnauthorized: false }),
      };
    }
    default:
      throw new ConfigError(`Docker host "${target.host}" (from ${target.source}) has an unsupported scheme ${url.protocol}`, 'Use unix://, npipe://, tcp://, ssh:// or https://.');
  }
}

function contextTarget(name: string, env: NodeJS.ProcessEnv): DockerTarget {
  if (name === 'default') return { host: defaultHost(), source: 'default' };
  const ctx = readDockerContext(name, env);
  const tls = ctx.tlsDir || ctx.skipTLSVerify ? { verify: !ctx.skipTLSVerify, certDir: ctx.tlsDir } : undefined;
  return { host: ctx.host, source: 'context', context: name, tls };
}

function envTls(env: NodeJS.ProcessEnv): DockerTls | undefined {
  // Like the docker CLI: any non-empty DOCKER_TLS_VERIFY turns verification on; certs default to ~/.docker.
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  if (!verify && !env.DOCKER_TLS && !env.DOCKER_CERT_PATH) return undefined;
  return { verify, certDir: env.DOCKER_CERT_PATH || dockerConfigDir(env) };
}

/**
 * Where the engine is, with the docker CLI's precedence: config docker.host (like -H),
 * config docker.context (like --context), DOCKER_HOST, DOCKER_CONTEXT, the CLI's
 * currentContext, then the platform default.
 */
export function resolveDockerTarget(config: PanelConfig, env: NodeJS.ProcessEnv = process.env): DockerTarget {
  const d = config.docker;
  if (d.host) {
    const tls = d.tlsVerify !== undefined || d.certPath ? { verify: d.tlsVerify ?? true, certDir: d.certPath } : undefined;
    return { host: d.host, source: 'config', tls };
  }
  if (d.context) return contextTarget(d.context, env);
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: 'env', tls: envTls(env) };
  const named = env.DOCKER_CONTEXT || currentContextName(env);
  if (named) return contextTarget(named, env);
  return { host: defaultHost(), source: 'default' };
}

/** A client whose every call has a deadline (deadline.ts): timeoutMs, or 5 s. */
export function dockerClient(target: DockerTarget, timeoutMs?: number, opts: ConnectOptions = {}): Docker {
  return withDeadlines(new Docker(modemOptions(target, timeoutMs, opts.env, opts.sshPool)), timeoutMs ?? 5_000);
}

/** Both clients the panel needs: one for short calls, one without an idle timeout for streams and long waits; both with deadlines. */
export function connectDocker(config: PanelConfig, env: NodeJS.ProcessEnv = process.env, sshPool?: SshConnectionPool): { target: DockerTarget; docker: Docker; streaming: Docker } {
  const target = resolveDockerTarget(config, env);
  const opts = { env, sshPool };
  return {
    target,
    docker: dockerClient(target, config.docker.timeoutMs, opts),
    streaming: withDeadlines(new Docker(modemOptions(target, undefined, env, sshPool)), config.docker.timeoutMs),
  };
}

export function pingDocker(config: PanelConfig, env: NodeJS.ProcessEnv = process.env, sshPool: SshConnectionPool = processSshPool): Promise<DockerPing> {
  const target = resolvePingTarget(config, env);
  return 'ok' in target ? Promise.resolve(target) : askVersion(target, config.docker.timeoutMs, env, sshPool);
}

function resolvePingTarget(config: PanelConfig, env: NodeJS.ProcessEnv): DockerTarget | DockerPing {
  try {
    return resolveDockerTarget(config, env);
  } catch (e) {
    const problem = classifyDockerError(e, { env });
    return { ok: false, host: '(unresolved)', source: 'config', latencyMs: 0, problem };
  }
}

/**
 * Pings in flight by engine and how it is reached, shared by a fleet's instances: the sweeps of
 * many instances on one engine at the same moment ask it once and share its answer (never an
 * older one: an answer is forgotten as soon as it arrives).
 */
export class EnginePings {
  private readonly inFlight = new Map<string, Promise<DockerPing>>();

  ping(config: PanelConfig, env: NodeJS.ProcessEnv = process.env): Promise<DockerPing> {
    const target = resolvePingTarget(config, env);
    if ('ok' in target) return Promise.resolve(target);
    // What the answer depends on: the target (its TLS settings included), the deadline, and where ssh finds its keys.
    const key = JSON.stringify([target, config.docker.timeoutMs, env.HOME, env.USERPROFILE, env.SSH_AUTH_SOCK]);
    const joined = this.inFlight.get(key);
    if (joined) return joined;
    const asked = askVersion(target, config.docker.timeoutMs, env, processSshPool).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, asked);
    return asked;
  }
}

async function askVersion(target: DockerTarget, timeoutMs: number, env: NodeJS.ProcessEnv, sshPool: SshConnectionPool): Promise<DockerPing> {
  const started = performance.now();
  const where = { host: target.host, source: target.source, ...(target.context ? { context: target.context } : {}) };
  const { signal, clear } = deadline(timeoutMs);
  try {
    // dockerode forwards abortSignal on version(); its typings omit the options argument.
    const client = dockerClient(target, undefined, { env, sshPool });
    const version = client.version.bind(client) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>;
    const v = await version({ abortSignal: signal });
    return { ok: true, ...where, serverVersion: v.Version, apiVersion: v.ApiVersion, latencyMs: Math.round(performance.now() - started) };
  } catch (e) {
    return {
      ok: false,
      ...where,
      latencyMs: Math.round(performance.now() - started),
      problem: classifyDockerError(e, { host: target.host, timedOutAfterMs: signal.aborted ? timeoutMs : undefined, env }),
    };
  } finally {
    clear();
  }
}
