import type { PanelConfig } from '../config/schema.js';
import type { PanelPaths } from '../config/paths.js';
import { readCurrentCredential, type VaultKeys } from '../tokens/index.js';
import { ComfyClient } from './client.js';

/**
 * A client for the configured server. The token is the vault's current bcrypt hash (`credential`:
 * already read by the caller, null for none); the CLI may pass its environment so COMFYUI_TOKEN
 * overrides it (e.g. a server the vault does not manage).
 */
export async function comfyClientFor(
  config: PanelConfig,
  paths: PanelPaths,
  opts: { env?: NodeJS.ProcessEnv; keys?: VaultKeys; credential?: { hash: string } | null } = {},
): Promise<ComfyClient> {
  const override = opts.env?.COMFYUI_TOKEN?.trim();
  const token = override || (opts.credential !== undefined ? opts.credential : await readCurrentCredential(config, paths, opts.keys))?.hash;
  const tokenSource = override ? 'override' : token ? 'vault' : 'none';
  return new ComfyClient({ baseUrl: config.comfyui.url, token, tokenSource, timeoutMs: config.comfyui.timeoutMs });
}
