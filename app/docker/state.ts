import type Docker from 'dockerode';
import { redact } from '../redact.js';
import type { ContainerPhase, ContainerState, ContainerStatus, PublishedPort } from '../contract/ops/container.js';
import { LABEL_MANAGED } from './spec.js';

/** A running container without a healthcheck counts as starting for this long, then as healthy. */
export const NO_HEALTHCHECK_GRACE_MS = 10_000;

/** Docker's zero time, used for "never started/finished". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export type Health = NonNullable<ContainerState['health']>;

export function healthOf(info: Docker.ContainerInspectInfo): Health {
  const s = info.State.Health?.Status;
  return s === 'starting' || s === 'healthy' || s === 'unhealthy' ? s : 'none';
}

/** SIGTERM's exit code (128 + 15): what ComfyUI returns under tini after `docker stop`. */
export const SIGTERM_EXIT = 143;

/**
 * An exit nobody needs to worry about: 0, or 143 (SIGTERM). A SIGTERM is always a request to
 * stop (docker stop, a host shutdown, an operator's kill), never ComfyUI failing by itself.
 */
export const cleanExit = (code: number): boolean => code === 0 || code === SIGTERM_EXIT;

/** The exit code in words, for status lines and health details. */
export function exitCodeText(code: number, oomKilled = false): string {
  if (oomKilled) return `exit code ${code}, killed: out of memory`;
  if (code === SIGTERM_EXIT) return `exit code ${code}, SIGTERM: a clean stop`;
  if (code === 137) return `exit code ${code}, SIGKILL: killed (the stop timeout ran out, or the kernel killed it)`;
  if (code > 128 && code < 160) return `exit code ${code}, signal ${code - 128}`;
  return `exit code ${code}`;
}

/**
 * The phase from one inspect. `deliberate` says the last exit followed a stop or kill
 * request (the panel's or the operator's); only then is a non-zero exit "stopped".
 */
export function phaseOf(info: Docker.ContainerInspectInfo, deliberate: boolean, now = Date.now()): ContainerPhase {
  const st = info.State;
  switch (st.Status) {
    case 'created':
      return 'created';
    case 'running': {
      const health = healthOf(info);
      if (health === 'none') return now - Date.parse(st.StartedAt) < NO_HEALTHCHECK_GRACE_MS ? 'starting' : 'healthy';
      return health;
    }
    case 'paused':
      return 'unhealthy'; // frozen: it answers nothing
    case 'restarting':
      return 'crashed'; // a restart policy is bringing it back after a failure
    case 'removing':
      return 'stopped';
    default: // exited, dead
      if (st.OOMKilled) return 'crashed';
      if (cleanExit(st.ExitCode) || deliberate) return 'stopped';
      return 'crashed';
  }
}

/** When a running container without a healthcheck leaves the grace period (ms from now), else undefined. */
export function graceEndsIn(info: Docker.ContainerInspectInfo, now = Date.now()): number | undefined {
  if (info.State.Status !== 'running' || healthOf(info) !== 'none') return undefined;
  const left = Date.parse(info.State.StartedAt) + NO_HEALTHCHECK_GRACE_MS - now;
  return left > 0 ? left : undefined;
}

function publishedPorts(info: Docker.ContainerInspectInfo): PublishedPort[] {
  type Binding = { HostIp?: string; HostPort?: string }[] | null;
  const live = info.NetworkSettings?.Ports as Record<string, Binding> | undefined;
  const source = info.State.Running && live ? live : ((info.HostConfig.PortBindings ?? {}) as Record<string, Binding>);
  return Object.entries(source).flatMap(([key, list]) => {
    const [port = '0', protocol = 'tcp'] = key.split('/');
    return (list ?? []).map((b) => ({ containerPort: Number(port), protocol, hostIp: b.HostIp ?? '', hostPort: Number(b.HostPort ?? 0) }));
  });
}

const realTime = (t: string | undefined) => (t && t !== ZERO_TIME ? t : undefined);

export function absentStatus(name: string, now = new Date()): ContainerStatus {
  return { name, phase: 'absent', since: now.toISOString(), exists: false, managed: false, adopted: false, ports: [], labels: {} };
}

/** What is known when the engine could not be asked: nothing, and certainly not that the container is absent. */
export function unknownStatus(name: string, now = new Date()): ContainerStatus {
  return { ...absentStatus(name, now), phase: 'unknown', exists: null };
}

function networkIpsOf(info: Docker.ContainerInspectInfo): { networkIps?: string[] } {
  const ips = Object.entries(info.NetworkSettings?.Networks ?? {})
    .filter(([name, n]) => name !== 'bridge' && name !== 'host' && n.IPAddress)
    .map(([, n]) => n.IPAddress);
  return ips.length ? { networkIps: ips } : {};
}

/** Everything the UI shows about a container, from one inspect. */
export function statusOf(name: string, info: Docker.ContainerInspectInfo, deliberate: boolean, now = Date.now()): ContainerStatus {
  const st = info.State;
  const labels = info.Config.Labels ?? {};
  const managed = labels[LABEL_MANAGED] === 'true';
  const project = labels['com.docker.compose.project'];
  const service = labels['com.docker.compose.service'];
  const workingDir = labels['com.docker.compose.project.working_dir'];
  const startedAt = realTime(st.StartedAt);
  const finishedAt = realTime(st.FinishedAt);
  // A restarting container (its policy brings it back after a crash) keeps the exit code of that crash.
  const exited = (!st.Running && st.Status !== 'created') || st.Restarting;
  return {
    name,
    phase: phaseOf(info, deliberate, now),
    id: info.Id,
    image: info.Config.Image,
    health: healthOf(info),
    ...(exited ? { exitCode: st.ExitCode, oomKilled: st.OOMKilled } : {}),
    since: (st.Running ? startedAt : finishedAt) ?? info.Created,
    exists: true,
    managed,
    adopted: !managed,
    ports: publishedPorts(info),
    ...networkIpsOf(info),
    startedAt,
    finishedAt,
    restartCount: info.RestartCount,
    labels,
    ...(project && service ? { compose: { project, service, ...(workingDir ? { workingDir } : {}) } } : {}),
    ...(!st.Running && st.Error ? { startError: redact(st.Error) } : {}),
  };
}

/** The event-payload subset of a status. */
export function stateOf(s: ContainerStatus): ContainerState {
  const { name, phase, id, image, health, exitCode, oomKilled, since } = s;
  return { name, phase, id, image, health, exitCode, oomKilled, since };
}
