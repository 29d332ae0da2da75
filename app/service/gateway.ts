import { dialects, type Dialect } from '../contract/names.js';
import type { PanelHandlers } from '../contract/index.js';
import type { CreatedClientKey, HandedOverKey } from '../contract/ops/gateway.js';
import { GatewayManager } from '../docker/gateway.js';
import { clientUsage, createClientKey, listClientKeys, parseDuration, parseExpiry, revokeClientKey, rotateClientKey } from '../gateway/clients.js';
import { resolveEnvRoot } from '../env/root.js';
import { issueClientKey } from '../gateway/env-targets.js';
import type { GatewayState } from '../gateway/state.js';
import { vaultDir } from '../tokens/vault.js';
import { clientEnvLines } from '../tokens/client-env.js';
import type { PanelContext } from './context.js';

/** The gateway container and its client keys, for the deployment of the loaded config. */
export function gatewayHandlers(ctx: PanelContext) {
  const manager = () => new GatewayManager(ctx.loaded.config, { dataDir: ctx.paths.dataDir });
  const stateDir = () => manager().state;
  /**
   * SECRET: issues a key (under the credential lock when env targets get it, as the CLI does) and
   * returns its env lines for every reader, so the page can copy the one the client needs.
   */
  const handOver = async <K extends CreatedClientKey>(name: string, issue: (state: GatewayState) => Promise<K>): Promise<HandedOverKey<K>> => {
    const { config, path } = ctx.loaded;
    const url = manager().url;
    const k = await issueClientKey(config, resolveEnvRoot(config.env, path), vaultDir(config, ctx.paths), name, () => issue(stateDir()));
    return { ...k, envLines: Object.fromEntries(dialects.map((d: Dialect) => [d, clientEnvLines({ hash: k.key }, url, d)])) as Record<Dialect, string[]> };
  };
  return {
    gatewayStatus: async () => manager().status(),
    gatewayUp: async () => manager().up(),
    gatewayDown: async () => manager().down(),
    clientKeys: async () => ({ keys: await listClientKeys(stateDir()) }),
    // The two operations whose result is a secret: the page calls them only on the user's explicit action, and shows the key once.
    clientKeyCreate: async ({ name, scope, expiresIn, rateLimit, maxQueued }) =>
      handOver(name, (dir) => createClientKey(dir, { name, scope, ...(expiresIn ? { expiresAt: parseExpiry(expiresIn) } : {}), ...(rateLimit ? { rateLimit } : {}), ...(maxQueued ? { maxQueued } : {}) })),
    clientKeyRotate: async ({ name, overlap }) => {
      const ms = parseDuration(overlap, 'overlap');
      return handOver(name, (dir) => rotateClientKey(dir, name, ms));
    },
    clientKeyRevoke: async ({ name }) => ({ revoked: await revokeClientKey(stateDir(), name) }),
    clientUsage: async () => ({ keys: await clientUsage(stateDir()) }),
  } satisfies Partial<PanelHandlers>;
}
