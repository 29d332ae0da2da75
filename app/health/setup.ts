import path from 'node:path';
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { DockerPing } from '../contract/ops/container.js';
import type { ContainerCandidate, CredentialSource, SetupChoices, SetupDetection } from '../contract/ops/health.js';
import { connectDocker, pingDocker } from '../docker/connection.js';
import { ContainerManager } from '../docker/manager.js';
import { LABEL_MANAGED } from '../docker/spec.js';
import { discoverEnvFiles, envScope, type DiscoveredEnvFile } from '../env/index.js';
import { readEnvFileValues } from '../env/files.js';
import { errorMessage } from '../errors.js';
import { fingerprint } from '../redact.js';
import { isBcryptHash, parsePasswordFile } from '../tokens/credential.js';
import { REMEDIES } from './troubleshoot.js';

const COMFY_PORT = 8188;
const COMPOSE_DIR = 'com.docker.compose.project.working_dir';
const COMPOSE_PROJECT = 'com.docker.compose.project';

/** How to get an engine running on this platform, after what the ping found. */
export function engineHowTo(ping: DockerPing, platform: NodeJS.Platform = process.platform): string {
  if (ping.ok) return `Docker ${ping.serverVersion ?? ''} runs at ${ping.host}.`.replace('  ', ' ');
  const install =
    platform === 'linux'
      ? 'Install Docker Engine (https://docs.docker.com/engine/install/), then `sudo systemctl enable --now docker` and `sudo usermod -aG docker $USER` (log in again).'
      : 'Install Docker Desktop (https://docs.docker.com/desktop/) and start it; wait until it says the engine is running.';
  if (!ping.problem || ping.problem.kind === 'engine-not-installed') return install;
  return ping.problem.fix || REMEDIES[ping.problem.kind].fix.text;
}

/** A container that looks like ComfyUI: its image or name mentions comfy, or it uses port 8188. */
export function isComfyCandidate(c: Docker.ContainerInfo): boolean {
  const named = [c.Image, ...c.Names].some((s) => /comfy/i.test(s));
  return named || c.Ports.some((p) => p.PrivatePort === COMFY_PORT || p.PublicPort === COMFY_PORT);
}

function candidateOf(c: Docker.ContainerInfo, configuredName: string): ContainerCandidate {
  const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
  const managed = c.Labels?.[LABEL_MANAGED] === 'true';
  return {
    name,
    id: c.Id,
    image: c.Image,
    state: c.State,
    ports: c.Ports.filter((p) => p.PublicPort !== undefined).map((p) => ({ containerPort: p.PrivatePort, protocol: p.Type, hostIp: p.IP ?? '', hostPort: p.PublicPort })),
    managed,
    adopted: !managed,
    configured: name === configuredName,
    ...(c.Labels?.[COMPOSE_PROJECT] ? { composeProject: c.Labels[COMPOSE_PROJECT] } : {}),
  };
}

/** The fingerprint of the PASSWORD inside a candidate container (read through the archive API; never exec). */
async function containerCredential(config: PanelConfig, docker: Docker, name: string): Promise<CredentialSource | undefined> {
  const manager = new ContainerManager({ ...config, container: { ...config.container, name } }, docker);
  const text = await manager.readFile(`${config.container.comfyRoot}/login/PASSWORD`).then(
    (b) => b.toString('utf8'),
    () => undefined,
  );
  const parsed = text === undefined ? undefined : parsePasswordFile(text);
  return parsed?.ok ? { source: `container:${name}`, kind: 'container', container: name, fingerprint: fingerprint(parsed.hash) } : undefined;
}

export interface DockerFindings {
  docker: SetupDetection['docker'];
  containers: ContainerCandidate[];
  credentialSources: CredentialSource[];
  /** Project folders compose recorded for the candidates: where their .env files live. */
  composeDirs: string[];
  images: string[];
  skipped: SetupDetection['skipped'];
}

/** First-run detection on the Docker side: the engine, ComfyUI-like containers and their credentials. */
export async function detectDocker(config: PanelConfig): Promise<DockerFindings> {
  const ping = await pingDocker(config);
  const docker = { ...ping, howTo: engineHowTo(ping) };
  if (!ping.ok) return { docker, containers: [], credentialSources: [], composeDirs: [], images: [], skipped: [{ step: 'containers', reason: 'the Docker engine is not reachable' }] };
  const client = connectDocker(config).docker;
  let listed: Docker.ContainerInfo[];
  try {
    listed = (await client.listContainers({ all: true })).filter(isComfyCandidate);
  } catch (e) {
    return { docker, containers: [], credentialSources: [], composeDirs: [], images: [], skipped: [{ step: 'containers', reason: errorMessage(e) }] };
  }
  const containers = listed.map((c) => candidateOf(c, config.container.name));
  const credentialSources = (await Promise.all(containers.map((c) => containerCredential(config, client, c.name)))).filter((s) => s !== undefined);
  const composeDirs = [...new Set(listed.flatMap((c) => (c.Labels?.[COMPOSE_DIR] ? [c.Labels[COMPOSE_DIR]] : [])))];
  const images = await client.listImages().then(
    (list) => [...new Set(list.flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>')))].sort(),
    () => [],
  );
  return { docker, containers, credentialSources, composeDirs, images, skipped: [] };
}

/** The configuration with the chosen answers applied; anything not chosen stays as it is. */
export function applySetupChoices(current: PanelConfig, choices: SetupChoices): PanelConfig {
  return {
    ...current,
    comfyui: { ...current.comfyui, ...(choices.comfyuiUrl ? { url: choices.comfyuiUrl } : {}) },
    docker: { ...current.docker, ...(choices.dockerHost ? { host: choices.dockerHost } : {}) },
    container: {
      ...current.container,
      ...(choices.containerName ? { name: choices.containerName } : {}),
      ...(choices.hostPort ? { hostPort: choices.hostPort } : {}),
    },
    env: { ...current.env, ...(choices.envRoot ? { root: choices.envRoot } : {}) },
  };
}

/** Keys of the discovered .env files whose value, as the file's reader sees it, is a bcrypt hash (fingerprints only). */
async function envCredentials(files: DiscoveredEnvFile[]): Promise<CredentialSource[]> {
  const perFile = await Promise.all(
    files.map(async (f) => {
      const values = await readEnvFileValues(f.path, f.dialect, () => undefined).catch(() => ({}));
      return Object.entries(values)
        .filter(([, v]) => isBcryptHash(v))
        .map(([key, v]): CredentialSource => ({ source: `env:${f.file}#${key}`, kind: 'env', file: f.path, key, fingerprint: fingerprint(v) }));
    }),
  );
  return perFile.flat();
}

/**
 * Everything the first-run screen offers. The .env folder it proposes (and saves as
 * env.root when the setup is finished) is env.root when set, else the project folder
 * compose recorded for a candidate container, else the env root every operation uses
 * without env.root (env/root.ts: the config file's folder).
 */
export async function detectSetup(config: PanelConfig, configFile: string): Promise<SetupDetection> {
  const found = await detectDocker(config);
  const composeDir = config.env.root === undefined ? found.composeDirs[0] : undefined;
  const scope = envScope(composeDir === undefined ? config.env : { ...config.env, root: path.resolve(composeDir) }, configFile);
  const envRoot = scope.root;
  const skipped = [...found.skipped];
  let envFiles: DiscoveredEnvFile[] = [];
  try {
    envFiles = (await discoverEnvFiles(scope, config.env)).files.filter((f) => f.exists);
  } catch (e) {
    skipped.push({ step: 'env-files', reason: `${envRoot}: ${errorMessage(e)}` });
  }
  return {
    docker: found.docker,
    containers: found.containers,
    credentialSources: [...found.credentialSources, ...(await envCredentials(envFiles))],
    envFiles: envFiles.map((f) => f.file),
    images: found.images,
    envRoot,
    skipped,
  };
}
