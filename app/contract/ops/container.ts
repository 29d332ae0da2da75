import { z } from 'zod';
import { op } from '../define.js';

export type ContainerPhase = 'absent' | 'created' | 'starting' | 'healthy' | 'unhealthy' | 'stopped' | 'crashed';

export interface ContainerState {
  name: string;
  phase: ContainerPhase;
  id?: string;
  image?: string;
  /** Docker's own health status, when the container has a healthcheck. */
  health?: 'starting' | 'healthy' | 'unhealthy' | 'none';
  exitCode?: number;
  oomKilled?: boolean;
  /** ISO time of the last transition seen. */
  since: string;
}

/** A Docker failure classified into something an operator can act on. */
export interface DockerProblem {
  kind:
    | 'engine-not-installed'
    | 'daemon-not-running'
    | 'permission-denied'
    | 'no-such-container'
    | 'no-such-image'
    | 'name-conflict'
    | 'port-in-use'
    | 'nvidia-runtime-missing'
    | 'timeout'
    | 'unknown';
  message: string;
  fix: string;
}

export interface DockerPing {
  ok: boolean;
  /** Where the panel looked for the engine, e.g. unix:///var/run/docker.sock. */
  host: string;
  /** Where that address came from: config, DOCKER_HOST, a Docker context, or the platform default. */
  source: 'config' | 'env' | 'context' | 'default';
  serverVersion?: string;
  apiVersion?: string;
  latencyMs: number;
  problem?: DockerProblem;
}

export const containerOps = {
  dockerPing: op<DockerPing>()('Reach the Docker engine, with a timeout', z.object({}).strict()),
};
