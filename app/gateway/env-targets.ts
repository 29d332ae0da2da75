/**
 * Env targets that get a gateway client key (env.targets[].clientKey, with gateway.enabled).
 * The raw key exists only when it is issued, so it is written then, by `key create` and
 * `key rotate` (CLI and Clients page): the target's token keys get the key, its url keys the
 * gateway's URL; other keys stay as they are. Files are written atomically, 0600, owner kept,
 * under the credential lock (issueClientKey), as every other writer of credentials into env files.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PanelConfig } from '../config/schema.js';
import { resolveEnvTarget, setEnvValues } from '../env/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { withCredentialLock } from '../tokens/lock.js';
import { gatewayUrl } from './deployment.js';

const targetsOf = (config: PanelConfig, name: string) => (config.gateway.enabled ? config.env.targets.filter((t) => t.clientKey === name) : []);

/**
 * Issues the key `name` (`issue`: a create or a rotate) and writes it into its targets, holding
 * the credential lock of `lockDir` (the vault's folder) when it has any: a token rotation or an
 * env sync, or another key's write, never reads or writes one of those files meanwhile. The lock
 * is taken first, so while another operation holds it this refuses before issuing anything.
 */
export async function issueClientKey<K extends { name: string; key: string }>(
  config: PanelConfig,
  envRoot: string,
  lockDir: string,
  name: string,
  issue: () => Promise<K>,
): Promise<K & { envFiles: string[] }> {
  const issueAndWrite = async () => {
    const k = await issue();
    return { ...k, envFiles: await writeClientKeyTargets(config, envRoot, k.name, k.key) };
  };
  return targetsOf(config, name).length ? withCredentialLock(lockDir, 'a client key write', issueAndWrite) : issueAndWrite();
}

/** Writes `key` into every target that names `name`; returns the files written (absolute paths). Hold the credential lock (issueClientKey does). */
export async function writeClientKeyTargets(config: PanelConfig, envRoot: string, name: string, key: string): Promise<string[]> {
  const url = gatewayUrl(config.gateway);
  const written: string[] = [];
  for (const target of targetsOf(config, name)) {
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
