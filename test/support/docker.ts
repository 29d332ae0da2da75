import Docker from 'dockerode';

export type DockerAvailability = { ok: true; docker: Docker; host: string } | { ok: false; reason: string };

/**
 * Finds the engine the tests use (DOCKER_HOST, else the default socket). Under CI a
 * missing engine is a hard failure, never a silent skip; elsewhere the caller skips and
 * the reason is printed.
 */
export async function requireDocker(): Promise<DockerAvailability> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const docker = new Docker(host.startsWith('unix://') ? { socketPath: host.slice('unix://'.length) } : undefined);
  try {
    await docker.ping();
    return { ok: true, docker, host };
  } catch (e) {
    const reason = `no Docker engine at ${host} (${(e as Error).message}); start one with: eval "$(scripts/dockerd.sh start)"`;
    if (process.env.CI) throw new Error(`CI requires a Docker engine: ${reason}`, { cause: e });
    console.warn(`[skip] Docker tests: ${reason}`);
    return { ok: false, reason };
  }
}
