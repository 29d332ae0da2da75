/**
 * A host deployment for fault runs, laid out as production: vault, a host secret file the
 * "container" copies to login/PASSWORD at every start (as the real entrypoint does), and three
 * client env targets in the three dialects. The ComfyUI double serves deploy/ as its root.
 * The locations come from the panel's own configuredLocations, so the suite tests what ships.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { panelPaths, type PanelPaths } from '../../app/config/paths.js';
import { PanelConfigSchema, type EnvTarget, type PanelConfig } from '../../app/config/schema.js';
import { configuredLocations } from '../../app/tokens/actions.js';
import { createCredential, type Credential } from '../../app/tokens/credential.js';
import type { ContainerFiles, CredentialLocation } from '../../app/tokens/locations.js';
import type { ComfyServerControl } from '../../app/tokens/rotation.js';
import { Vault } from '../../app/tokens/vault.js';
import { hostDoubleServer } from '../tokens/support.js';

export const TARGETS: EnvTarget[] = [
  { path: '.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' } },
  { path: 'notebooks/.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_PASSWORD: 'password', COMFYUI_USER: 'username' } },
  { path: 'secrets/comfy.secrets', dialect: 'raw', keys: { COMFYUI_BEARER_TOKEN: 'token' } },
];

/** Lines the operator wrote that every write must keep. */
const TARGET_PREAMBLE: Record<string, string> = {
  '.env': '# compose project\nMODEL_DIR=/models\n',
  'notebooks/.env': 'export OTHER="kept # not a comment"\n',
  'secrets/comfy.secrets': '',
};

export interface RigLayout {
  base: string;
  deploy: string;
  /** Whether a host secret file feeds login/PASSWORD; else the panel writes PASSWORD "through the engine". */
  secretFile: boolean;
}

/** The URL written to env targets; the double's own port changes at every start, so it is probed directly. */
const CLIENT_URL = 'http://127.0.0.1:8188';

export function rigConfig(layout: RigLayout): PanelConfig {
  return PanelConfigSchema.parse({
    comfyui: { url: CLIENT_URL, timeoutMs: 5_000 },
    container: layout.secretFile ? { secretFile: path.join(layout.base, 'secrets', 'qwen-api-user.token') } : {},
    vault: { dir: path.join(layout.base, 'vault') },
    env: { root: path.join(layout.base, 'project'), targets: TARGETS },
  });
}

/** The container's filesystem seen through the engine, played by deploy/ on the host. */
export function hostContainerFiles(deploy: string, comfyRoot: string): ContainerFiles {
  const onHost = (p: string) => path.join(deploy, path.posix.relative(comfyRoot, p));
  return {
    async readFileEntry(p) {
      const file = onHost(p);
      const [data, stat] = await Promise.all([fs.readFile(file), fs.stat(file)]);
      return { data, mode: stat.mode };
    },
    async writeFile(p, data, mode = 0o600) {
      await fs.writeFile(onHost(p), data, { mode });
      await fs.chmod(onHost(p), mode);
    },
  };
}

export interface HostRig extends RigLayout {
  config: PanelConfig;
  paths: PanelPaths;
  /** Unwrapped: for checks and recovery. */
  locations: CredentialLocation[];
  server: ComfyServerControl;
  vault: Vault;
  close(): Promise<void>;
}

/** Starts the double on an existing layout ("the next start" after a crash uses this too). */
export async function openHostRig(layout: RigLayout): Promise<HostRig> {
  const double = await hostDoubleServer(layout.deploy);
  const config = rigConfig(layout);
  const secretFile = config.container.secretFile;
  const password = path.join(layout.deploy, 'login', 'PASSWORD');
  const server: ComfyServerControl = {
    ...double,
    async restart() {
      if (secretFile) await fs.copyFile(secretFile, password); // the entrypoint's copy at start
      await double.restart();
    },
  };
  const container = hostContainerFiles(layout.deploy, config.container.comfyRoot);
  return {
    ...layout,
    config,
    paths: panelPaths({ COMFY_PANEL_HOME: layout.base }),
    locations: configuredLocations(config, { container, envRoot: config.env.root! }),
    server,
    vault: new Vault(config.vault.dir!),
    close: () => double.close(),
  };
}

/** A fresh deployment where every location, the vault and the live server hold `old`. */
export async function createHostRig(base: string, secretFile: boolean): Promise<HostRig & { old: Credential }> {
  const layout: RigLayout = { base, deploy: path.join(base, 'deploy'), secretFile };
  const old = await createCredential('comfy');
  await fs.mkdir(path.join(layout.deploy, 'login'), { recursive: true });
  for (const t of TARGETS) {
    const file = path.join(base, 'project', t.path);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, TARGET_PREAMBLE[t.path] ?? '', { mode: 0o644 });
  }
  const rig = await openHostRig(layout);
  await rig.vault.write({ current: old });
  for (const loc of rig.locations) await loc.write(old); // the container's is left to the secret file when there is one
  await rig.server.restart();
  await rig.server.waitHealthy();
  return { ...rig, old };
}

