/** The panel's own inputs to env work: the URL from the config, the credential from the vault, where backups go. */
import path from 'node:path';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import { readCurrentCredential, type VaultKeys } from '../tokens/index.js';
import { planEnvSync, type EnvSyncPlan, type EnvSyncValues } from './sync.js';

export async function syncValuesFromPanel(config: PanelConfig, paths: PanelPaths, keys?: VaultKeys): Promise<EnvSyncValues> {
  const credential = await readCurrentCredential(config, paths, keys);
  return {
    url: config.comfyui.url,
    ...(credential ? { token: credential.hash, username: credential.username } : {}),
    ...(credential?.password !== undefined ? { password: credential.password } : {}),
  };
}

/** env.root from the config, else the fallback (the current folder for the CLI). */
export function envRoot(config: PanelConfig, fallback = process.cwd()): string {
  return path.resolve(config.env.root ?? fallback);
}

/** Backups of env files hold secrets: they go to the panel's data folder, not into the project. */
export function envBackupDir(paths: PanelPaths): string {
  return path.join(paths.dataDir, 'backups', 'env');
}

export async function planPanelSync(config: PanelConfig, paths: PanelPaths, root = envRoot(config), keys?: VaultKeys): Promise<EnvSyncPlan> {
  return planEnvSync(config.env.targets, root, await syncValuesFromPanel(config, paths, keys));
}
