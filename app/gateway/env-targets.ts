/**
 * Env targets that get a gateway client key (env.targets[].clientKey, with gateway.enabled).
 * The raw key exists only when it is issued, so it is written then, by `key create` and
 * `key rotate` (CLI and Clients page): the target's token keys get the key, its url keys the
 * gateway's URL; other keys stay as they are. Files are written atomically, 0600, owner kept.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PanelConfig } from '../config/schema.js';
import { resolveEnvTarget, setEnvValues } from '../env/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { gatewayUrl } from './deployment.js';

/** Writes `key` into every target that names `name`; returns the files written (absolute paths). */
export async function writeClientKeyTargets(config: PanelConfig, envRoot: string, name: string, key: string): Promise<string[]> {
  if (!config.gateway.enabled) return [];
  const url = gatewayUrl(config.gateway);
  const written: string[] = [];
  for (const target of config.env.targets.filter((t) => t.clientKey === name)) {
    const file = resolveEnvTarget(envRoot, target);
    const values: Record<string, string> = {};
    for (const [k, source] of Object.entries(target.keys)) {
      if (source === 'token') values[k] = key;
      else if (source === 'url') values[k] = url;
    }
    const old = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, setEnvValues(old, target.dialect, values), { mode: 0o600, backup: false });
    written.push(file);
  }
  return written;
}
