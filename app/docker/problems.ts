import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DockerProblem } from '../contract/ops/container.js';
import { PanelError } from '../errors.js';
import { redact } from '../redact.js';

/** A Docker failure carrying its classification, so callers and the UI can act on the kind. */
export class DockerError extends PanelError {
  constructor(
    readonly problem: DockerProblem,
    options?: { cause?: unknown },
  ) {
    super(problem.message, `docker-${problem.kind}`, problem.fix, options);
    this.name = 'DockerError';
  }
}

export interface ProblemContext {
  /** The engine address, for connection failures. */
  host?: string;
  /** The container or image the call was about. */
  container?: string;
  image?: string;
  /** Set when the caller's own timer aborted the call. */
  timedOutAfterMs?: number;
  env?: NodeJS.ProcessEnv;
}

interface RawDockerError {
  code?: string;
  statusCode?: number;
  name?: string;
  message?: string;
  address?: string;
  json?: { message?: string } | null;
  /** Set by the per-call deadline (deadline.ts). */
  timedOutAfterMs?: number;
}

function daemonMessage(e: RawDockerError): string {
  const fromJson = e.json && typeof e.json === 'object' ? e.json.message : undefined;
  return redact((fromJson ?? e.message ?? `${e.code ?? e.name ?? 'error'} without a message`).replace(/^\(HTTP code \d+\)\s+[^-]*-\s*/, '').trim());
}

function dockerBinaryOnPath(env: NodeJS.ProcessEnv): boolean {
  const names = process.platform === 'win32' ? ['docker.exe'] : ['docker'];
  return (env.PATH ?? '').split(path.delimiter).some((dir) => dir && names.some((n) => existsSync(path.join(dir, n))));
}

const START_DAEMON =
  process.platform === 'linux' ? 'Start it: `sudo systemctl start docker` (or start Docker Desktop).' : 'Start Docker Desktop and wait until it says the engine is running.';

/** A remote engine's address (tcp://, https://, ssh://) split for messages; undefined for a local socket. */
function remoteEngine(host: string | undefined): { scheme: string; hostname: string; port: string; user: string } | undefined {
  if (!host || !/^(tcp|https?|ssh):\/\//i.test(host)) return undefined;
  try {
    const u = new URL(host);
    const scheme = u.protocol.slice(0, -1);
    return { scheme, hostname: u.hostname, port: u.port || (scheme === 'ssh' ? '22' : scheme === 'https' ? '2376' : '2375'), user: u.username };
  } catch {
    return undefined;
  }
}

/** How to get the engine at `host` running: on this machine for a socket, on that host for a remote one. */
function startEngineFix(host: string | undefined): string {
  const r = remoteEngine(host);
  if (!r) return START_DAEMON;
  const login = `${r.user ? `${r.user}@` : ''}${r.hostname}`;
  if (r.scheme === 'ssh') return `Start Docker on ${r.hostname}: \`ssh ${login} sudo systemctl start docker\` (or start Docker Desktop there); \`docker -H ${host} version\` tests it from here.`;
  return (
    `The engine runs on ${r.hostname}, not here: start Docker there (e.g. \`ssh ${r.hostname} sudo systemctl start docker\`) and make sure dockerd listens on tcp port ${r.port} ` +
    `(\`-H tcp://0.0.0.0:${r.port}\` in its service or daemon.json "hosts", with TLS on 2376) and that no firewall blocks that port; \`docker -H ${host} version\` tests it from here.`
  );
}

/** Sorts any error from dockerode (or the connection) into a kind, a message and a fix. */
export function classifyDockerError(err: unknown, ctx: ProblemContext = {}): DockerProblem {
  if (err instanceof DockerError) return err.problem;
  if (err instanceof PanelError) return { kind: 'unknown', message: err.message, fix: err.fix ?? 'See the message.' };
  const e = (err ?? {}) as RawDockerError;
  const host = ctx.host ?? e.address ?? 'the Docker engine';
  const msg = daemonMessage(e);

  if (ctx.timedOutAfterMs !== undefined || e.code === 'ETIMEDOUT' || e.name === 'TimeoutError') {
    return {
      kind: 'timeout',
      message: `Docker engine at ${host} did not answer within ${ctx.timedOutAfterMs ?? e.timedOutAfterMs ?? 'the allowed'} ms`,
      fix: 'Check that the engine responds (`docker info`); if it is busy or remote, raise docker.timeoutMs in the config.',
    };
  }
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return {
      kind: 'permission-denied',
      message: `Permission denied on the Docker socket ${host}`,
      fix:
        process.platform === 'win32'
          ? 'Add your user to the "docker-users" group, then sign out and in again.'
          : 'Add your user to the docker group: `sudo usermod -aG docker $USER`, then log out and back in (or run `newgrp docker`).',
    };
  }
  if (e.code === 'ENOENT') {
    return dockerBinaryOnPath(ctx.env ?? process.env)
      ? { kind: 'daemon-not-running', message: `No Docker engine socket at ${host}: the docker client is installed but the engine is not running`, fix: startEngineFix(ctx.host) }
      : {
          kind: 'engine-not-installed',
          message: `Docker is not installed: no engine socket at ${host} and no docker command on PATH`,
          fix: 'Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, or point docker.host in the config at a remote engine.',
        };
  }
  if (e.code === 'ECONNREFUSED') {
    const remote = remoteEngine(ctx.host);
    const message = remote
      ? `Nothing answers at ${host} (connection refused): the Docker engine on ${remote.hostname} is not running or does not listen on port ${remote.port}`
      : `The Docker engine at ${host} is not running (connection refused)`;
    return { kind: 'daemon-not-running', message, fix: startEngineFix(ctx.host) };
  }
  if (/could not select device driver "nvidia"/i.test(msg)) {
    return {
      kind: 'nvidia-runtime-missing',
      message: `The Docker engine cannot give the container a GPU: ${msg}`,
      fix: 'Install the NVIDIA Container Toolkit (`sudo nvidia-ctk runtime configure --runtime=docker`, then restart Docker), or set container.gpus to "none" to run without a GPU.',
    };
  }
  if (/port is already allocated|address already in use/i.test(msg)) {
    const port = /:(\d+)(?:\D|$)/.exec(msg)?.[1];
    return {
      kind: 'port-in-use',
      message: `The host port${port ? ` ${port}` : ''} is already in use: ${msg}`,
      fix: `Stop whatever listens there (find it with \`ss -ltnp 'sport = :${port ?? 'PORT'}'\` or \`docker ps\`), or change container.hostPort in the config.`,
    };
  }
  const missingSource = /bind source path does not exist: (\S+)/i.exec(msg)?.[1];
  if (missingSource) {
    return {
      kind: 'mount-source-missing',
      message: `The bind mount source ${missingSource} does not exist on the engine's host`,
      fix: `Create it there (\`mkdir -p ${missingSource}\`) or correct container.mounts / container.secretFile in the config.`,
    };
  }
  if (e.statusCode === 404 && /no such image|pull access denied|repository does not exist/i.test(msg)) {
    return {
      kind: 'no-such-image',
      message: `Image ${ctx.image ?? ''} not found: ${msg}`.replace('  ', ' '),
      fix: 'Build it (`comfy-panel container build`), load it (`docker load`), or fix container.image in the config.',
    };
  }
  if (e.statusCode === 404) {
    return {
      kind: 'no-such-container',
      message: `No container ${ctx.container ?? ''}: ${msg}`.replace('  ', ' '),
      fix: 'Create it with `comfy-panel container up`, or set container.name to the container you use (`docker ps -a` lists them).',
    };
  }
  if (e.statusCode === 409 && /already in use/i.test(msg)) {
    return {
      kind: 'name-conflict',
      message: `The container name ${ctx.container ?? ''} is already taken: ${msg}`.replace('  ', ' '),
      fix: 'Adopt that container (`comfy-panel container adopt`), remove it (`docker rm -f <name>`), or choose another container.name.',
    };
  }
  return { kind: 'unknown', message: msg || 'Docker call failed', fix: 'Read the message; `docker info` and `docker ps -a` show the engine and container state.' };
}

/** Wraps any failure as a DockerError (PanelErrors pass through). */
export function toDockerError(err: unknown, ctx: ProblemContext = {}): PanelError {
  if (err instanceof PanelError) return err;
  return new DockerError(classifyDockerError(err, ctx), { cause: err });
}
