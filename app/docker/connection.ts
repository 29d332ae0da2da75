import Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { DockerPing } from '../contract/ops/container.js';

export interface DockerTarget {
  host: string;
  source: DockerPing['source'];
  options: Docker.DockerOptions;
}

function defaultHost(): string {
  return process.platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';
}

/** Turns a Docker host URL into dockerode options. */
export function modemOptions(host: string, timeoutMs: number): Docker.DockerOptions {
  const url = new URL(host);
  if (url.protocol === 'unix:' || url.protocol === 'npipe:') {
    return { socketPath: host.replace(/^(unix|npipe):\/\//, ''), timeout: timeoutMs };
  }
  const protocol = url.protocol === 'ssh:' ? 'ssh' : url.protocol === 'https:' ? 'https' : 'http';
  return { protocol, host: url.hostname, port: url.port || undefined, username: url.username || undefined, timeout: timeoutMs };
}

/** Where the engine is: config, then DOCKER_HOST, then the platform default. */
export function resolveDockerTarget(config: PanelConfig, env: NodeJS.ProcessEnv = process.env): DockerTarget {
  const timeoutMs = config.docker.timeoutMs;
  if (config.docker.host) return { host: config.docker.host, source: 'config', options: modemOptions(config.docker.host, timeoutMs) };
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: 'env', options: modemOptions(env.DOCKER_HOST, timeoutMs) };
  const host = defaultHost();
  return { host, source: 'default', options: modemOptions(host, timeoutMs) };
}

export function dockerClient(target: DockerTarget): Docker {
  return new Docker(target.options);
}

export async function pingDocker(config: PanelConfig): Promise<DockerPing> {
  const target = resolveDockerTarget(config);
  const started = performance.now();
  try {
    const docker = dockerClient(target);
    const v = await docker.version();
    return {
      ok: true,
      host: target.host,
      source: target.source,
      serverVersion: v.Version,
      apiVersion: v.ApiVersion,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (e) {
    return {
      ok: false,
      host: target.host,
      source: target.source,
      latencyMs: Math.round(performance.now() - started),
      problem: { kind: 'unknown', message: (e as Error).message, fix: 'Check that the Docker engine is running.' },
    };
  }
}
