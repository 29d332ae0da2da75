import { z } from 'zod';
import { op } from '../define.js';
import type { LogLine } from '../events.js';

/** `unknown`: the engine could not be asked (permission denied, not running, timed out); never taken for `absent`. */
export type ContainerPhase = 'absent' | 'created' | 'starting' | 'healthy' | 'unhealthy' | 'stopped' | 'crashed' | 'unknown';

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
    | 'mount-source-missing'
    | 'ssh-unreachable'
    | 'ssh-auth-failed'
    | 'ssh-host-unknown'
    | 'ssh-host-key-changed'
    | 'ssh-remote-docker'
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
  /** The Docker context used, when source is 'context'. */
  context?: string;
  serverVersion?: string;
  apiVersion?: string;
  latencyMs: number;
  problem?: DockerProblem;
}

export interface PublishedPort {
  containerPort: number;
  protocol: string;
  hostIp: string;
  hostPort: number;
}

/** Everything `inspect` tells about the configured container, as plain data. */
export interface ContainerStatus extends ContainerState {
  /** null when the engine could not be asked (the overview's problem says why). */
  exists: boolean | null;
  /** Created by the panel (label io.comfy-panel.managed=true). */
  managed: boolean;
  /** Exists under the configured name but was made by something else (compose, docker run). */
  adopted: boolean;
  ports: PublishedPort[];
  /** Its addresses on user-defined Docker networks (the gateway's private one), which a local engine's host can reach. */
  networkIps?: string[];
  startedAt?: string;
  finishedAt?: string;
  restartCount?: number;
  labels: Record<string, string>;
  /** Set when docker compose made the container. */
  compose?: { project: string; service: string; workingDir?: string };
  /** Why the last start failed, as Docker recorded it (e.g. the port was taken, no NVIDIA runtime). */
  startError?: string;
}

/**
 * How ComfyUI-Login can look present and still not protect the API (each seen on the real server):
 * open (anonymous 200), no-password (an empty `?token=` passes; the first visitor sets it),
 * no-token-support (a node from before tokens: 302 to /login), cors-origin (tokens only checked
 * for one Origin, so scripts get 401), import-failed (listed under IMPORT FAILED: no auth at all).
 */
export type LoginNodeProblem = 'open' | 'no-password' | 'no-token-support' | 'cors-origin' | 'import-failed';

/** One verified fact; null when it could not be determined (the detail says why). */
export interface Fact {
  value: boolean | null;
  detail: string;
  /** Set with value false when the cause is one of the known ones. */
  problem?: LoginNodeProblem;
}

/** Is ComfyUI-Login really protecting the server? Three separate facts. */
export interface LoginNodeReport {
  installed: Fact;
  loaded: Fact;
  enforced: Fact;
}

export interface ContainerStats {
  /** Share of one core since the previous sample of this run (100 = one core); null on the first sample. */
  cpuPercent: number | null;
  /** When this sample was taken (the overview may show the previous one when the engine is slow). */
  sampledAt: string;
  memoryUsedBytes: number;
  memoryLimitBytes: number;
}

export interface GpuInfo {
  name: string;
  memoryUsedMiB: number;
  memoryTotalMiB: number;
}

export interface GpuReport {
  /** null: no GPU visible in the container; `reason` says why. */
  gpus: GpuInfo[] | null;
  reason?: string;
}

export interface ContainerOverview extends ContainerStatus {
  loginNode: LoginNodeReport;
  stats: ContainerStats | null;
  gpu: GpuReport;
  /** Healthy, and protected when config.container.authRequired. */
  ok: boolean;
  /** Why ok is false, one sentence each. */
  reasons: string[];
  problem?: DockerProblem;
}

/** One difference between the configured spec and the existing container. Env values are never shown. */
export interface SpecChange {
  field: 'image' | 'command' | 'env' | 'ports' | 'mounts' | 'gpus' | 'restartPolicy' | 'healthcheck' | 'user' | 'network' | 'spec-hash';
  from: string;
  to: string;
}

export interface RecreateResult {
  recreated: boolean;
  changes: SpecChange[];
  state: ContainerState;
}

export interface AdoptReport {
  name: string;
  id: string;
  managed: boolean;
  compose?: { project: string; service: string; workingDir?: string };
  canChange: string[];
  cannotChange: string[];
  /** How the container differs from the panel's configuration. */
  differences: SpecChange[];
  /** Compose-owned: the command that applies a change (the panel never recreates behind compose's back). */
  composeCommand?: string;
  /** Whether the `docker compose` plugin is installed where the panel runs (then containerComposeApply runs the command). */
  composeAvailable?: boolean;
}

export interface ComposeApplyResult {
  command: string;
  /** What compose printed (redacted, the last 8000 characters). */
  output: string;
  state: ContainerState;
}

export interface BuildResult {
  tag: string;
  imageId?: string;
  lines: number;
}

const empty = z.object({}).strict();

export const containerOps = {
  dockerPing: op<DockerPing>()('Reach the Docker engine, with a timeout', empty),
  containerStatus: op<ContainerOverview>()('State, health, login-node facts, CPU/memory and GPU of the container', empty),
  containerStart: op<ContainerState>()('Create the container if absent, then start it', empty),
  containerStop: op<ContainerState>()('Stop gracefully (config stopTimeoutSec), then kill', empty),
  containerRestart: op<ContainerState>()('Restart the container', empty),
  containerCreate: op<ContainerState>()('Create the container from the configuration', empty),
  containerRecreate: op<RecreateResult>()(
    'Replace the container when the configuration changed, reporting what changed',
    z.object({ force: z.boolean().default(false).describe('Also recreate a compose-made container (detaches it from compose)') }).strict(),
  ),
  containerRemove: op<ContainerState>()('Stop and remove the container', empty),
  containerAdopt: op<AdoptReport>()('Take over an existing container by name and say what the panel can change on it', empty),
  containerComposeApply: op<ComposeApplyResult>()(
    'Compose-owned container: run `docker compose … up -d --force-recreate SERVICE` for its project (needs the compose plugin where the panel runs)',
    empty,
  ),
  containerLogs: op<{ lines: LogLine[] }>()(
    'Recent log lines, demultiplexed, ANSI-stripped and redacted',
    z.object({ tail: z.int().min(1).max(10_000).default(200) }).strict(),
  ),
  containerLogsFollow: op<{ following: boolean }>()(
    'Start or stop pushing `log` events',
    z.object({ follow: z.boolean() }).strict(),
  ),
  containerBuild: op<BuildResult>()('Build the image from assets/docker/comfyui-qwen', empty),
};
