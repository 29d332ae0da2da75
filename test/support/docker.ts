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

/** Where .ci/run (`scripts/dockerd.sh start 2`) puts the second, separate engine for the fleet tests. */
export const SECOND_ENGINE_ENV = 'COMFY_PANEL_DOCKER_HOST_2';

/**
 * The second private engine (its own daemon, data, containers and bridge), from
 * COMFY_PANEL_DOCKER_HOST_2. Under CI its absence is a hard failure; elsewhere the caller
 * skips with the reason. An address that reaches the first engine again is refused: two
 * names for one engine would make every isolation test pass for nothing.
 */
export async function requireSecondDocker(first?: Docker): Promise<DockerAvailability> {
  const host = process.env[SECOND_ENGINE_ENV];
  const fail = (reason: string): DockerAvailability => {
    if (process.env.CI) throw new Error(`CI requires the second Docker engine: ${reason}`);
    console.warn(`[skip] second-engine tests: ${reason}`);
    return { ok: false, reason };
  };
  if (!host) return fail(`${SECOND_ENGINE_ENV} is not set; start it with: eval "$(scripts/dockerd.sh start 2)"`);
  if (!host.startsWith('unix://')) return fail(`${SECOND_ENGINE_ENV}=${host}: expected a unix:// socket`);
  const docker = new Docker({ socketPath: host.slice('unix://'.length) });
  try {
    const info = (await docker.info()) as { ID: string };
    if (first && ((await first.info()) as { ID: string }).ID === info.ID) return fail(`${host} is the same engine as DOCKER_HOST (engine ID ${info.ID})`);
    return { ok: true, docker, host };
  } catch (e) {
    return fail(`no Docker engine at ${host} (${(e as Error).message}); start it with: eval "$(scripts/dockerd.sh start 2)"`);
  }
}
