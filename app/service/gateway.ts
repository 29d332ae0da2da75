import { dialects, type Dialect } from '../contract/names.js';
import type { PanelHandlers } from '../contract/index.js';
import type { CreatedClientKey, HandedOverKey } from '../contract/ops/gateway.js';
import { GatewayManager } from '../docker/gateway.js';
import { clientUsage, createClientKey, listClientKeys, parseDuration, parseExpiry, revokeClientKey, rotateClientKey } from '../gateway/clients.js';
import { resolveEnvRoot } from '../env/root.js';
import { writeClientKeyTargets } from '../gateway/env-targets.js';
import { clientEnvLines } from '../tokens/client-env.js';
import type { PanelContext } from './context.js';

/** The gateway container and its client keys, for the deployment of the loaded config. */
export function gatewayHandlers(ctx: PanelContext) {
  const manager = () => new GatewayManager(ctx.loaded.config, { dataDir: ctx.paths.dataDir });
  const stateDir = () => manager().stateDir;
  /** SECRET: the key's env lines for every reader, so the page can copy the one the client needs. */
  const handOver = async <K extends CreatedClientKey>(k: K): Promise<HandedOverKey<K>> => {
    const { config, path } = ctx.loaded;
    const url = manager().url;
    const envFiles = await writeClientKeyTargets(config, resolveEnvRoot(config.env, path), k.name, k.key);
    return { ...k, envFiles, envLines: Object.fromEntries(dialects.map((d: Dialect) => [d, clientEnvLines({ hash: k.key }, url, d)])) as Record<Dialect, string[]> };
  };
  return {
    gatewayStatus: async () => manager().status(),
    gatewayUp: async () => manager().up(),
    gatewayDown: async () => manager().down(),
    clientKeys: async () => ({ keys: await listClientKeys(stateDir()) }),
    // The two operations whose result is a secret: the page calls them only on the user's explicit action, and shows the key once.
    clientKeyCreate: async ({ name, scope, expiresIn, rateLimit, maxQueued }) =>
      handOver(await createClientKey(stateDir(), { name, scope, ...(expiresIn ? { expiresAt: parseExpiry(expiresIn) } : {}), ...(rateLimit ? { rateLimit } : {}), ...(maxQueued ? { maxQueued } : {}) })),
    clientKeyRotate: async ({ name, overlap }) => handOver(await rotateClientKey(stateDir(), name, parseDuration(overlap, 'overlap'))),
    clientKeyRevoke: async ({ name }) => ({ revoked: await revokeClientKey(stateDir(), name) }),
    clientUsage: async () => ({ keys: await clientUsage(stateDir()) }),
  } satisfies Partial<PanelHandlers>;
}
