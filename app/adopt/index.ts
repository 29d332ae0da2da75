/**
 * Adoption: the config for one running deployment, read from what Docker and compose know,
 * shown as "adopt these values" with a diff against the current config. It writes nothing: the
 * caller saves `plan.config` once the operator confirmed (wizard, `setup --adopt`).
 */
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import { configDiff } from '../config/diff.js';
import type { AdoptionPlan, CredentialSource } from '../contract/ops/health.js';
import { connectDocker } from '../docker/connection.js';
import { ContainerManager } from '../docker/manager.js';
import { toDockerError } from '../docker/problems.js';
import { fingerprint } from '../redact.js';
import { adoptComposeEnv } from './compose.js';
import { inspectDeployment } from './inspect.js';


/** The parts of a config that describe one deployment (later: one fleet instance). */
export type DeploymentSection = Pick<PanelConfig, 'comfyui' | 'docker' | 'container' | 'env' | 'credential'>;

export interface AdoptOptions {
  /** The engine the container runs on. */
  docker: Docker;
  /** Its address as the config should record it (undefined: the default engine). */
  dockerHost?: string;
  containerName: string;
  /** The section to start from (defaults, or the current config's): what Docker does not say stays as it is there. */
  base: DeploymentSection;
  /** The config file the section will be saved to (relative env paths start beside it). */
  configFile: string;
}

export interface AdoptedDeployment extends Omit<AdoptionPlan, 'config' | 'diff'> {
  section: DeploymentSection;
}

/** The host the panel reaches a published port on: the bind address, else this machine, else the remote engine's host. */
function reachableHost(bindAddress: string, dockerHost: string | undefined): string {
  if (bindAddress && bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
  const remote = dockerHost?.match(/^(?:tcp|ssh|https?):\/\/(?:[^@/]+@)?([^:/]+)/)?.[1];
  return remote ?? '127.0.0.1';
}

/** Adopts one container into a deployment section. */
export async function adoptDeployment(opts: AdoptOptions): Promise<AdoptedDeployment> {
  const { docker, base, containerName } = opts;
  const manager = new ContainerManager({ ...(base as PanelConfig), container: { ...base.container, name: containerName } }, docker);
  let inspected: Awaited<ReturnType<typeof inspectDeployment>>;
  try {
    inspected = await inspectDeployment(docker, containerName, base.container, (p) => manager.readFile(p));
  } catch (e) {
    throw toDockerError(e, { host: opts.dockerHost, container: containerName });
  }
  const adopted = [...inspected.adopted];
  const notes = [...inspected.notes];
  const url = inspected.published ? `http://${reachableHost(inspected.published.hostIp, opts.dockerHost)}:${inspected.published.hostPort}` : base.comfyui.url;
  if (inspected.published) adopted.unshift({ field: 'comfyui.url', value: url, from: 'published port' });
  const username = inspected.password?.username || base.credential.username;
  if (inspected.password?.username) adopted.push({ field: 'credential.username', value: username, from: 'line 2 of login/PASSWORD' });

  let env = { ...base.env, targets: base.env.targets };
  if (inspected.compose) {
    const composed = await adoptComposeEnv(inspected.compose, base.env, opts.configFile, inspected.password?.username);
    env = composed.env;
    adopted.push(...composed.adopted);
    notes.push(...composed.notes);
  }
  const tokenSources: CredentialSource[] = inspected.password
    ? [{ source: `container:${containerName}`, kind: 'container', container: containerName, fingerprint: fingerprint(inspected.password.hash) }]
    : [];
  const section: DeploymentSection = {
    comfyui: { ...base.comfyui, url },
    docker: { ...base.docker, ...(opts.dockerHost ? { host: opts.dockerHost } : {}) },
    container: inspected.container,
    env,
    credential: { ...base.credential, username },
  };
  return { container: containerName, ...(inspected.compose ? { compose: inspected.compose } : {}), section, adopted, notes, tokenSources };
}

/** The plan the wizard and `setup --adopt` show: the current config with the deployment's section in, and the diff. */
export async function planAdoption(current: PanelConfig, opts: Omit<AdoptOptions, 'base' | 'docker'> & { docker?: Docker }): Promise<AdoptionPlan> {
  const docker = opts.docker ?? connectDocker({ ...current, docker: { ...current.docker, ...(opts.dockerHost ? { host: opts.dockerHost } : {}) } }).docker;
  const { section, ...rest } = await adoptDeployment({ ...opts, docker, base: current });
  const config: PanelConfig = { ...current, ...section };
  return { ...rest, config, diff: configDiff(current, config) };
}
