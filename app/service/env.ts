import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PanelHandlers } from '../contract/index.js';
import { auditEnvTree, diffEnvFiles, envScope, isInside, previewOf, scopeAt, showEnvFile } from '../env/index.js';
import { envBackupDir, planPanelSync } from '../env/sources.js';
import { PanelError } from '../errors.js';
import { actorName } from '../tokens/audit-log.js';
import { syncEnvTargets } from '../tokens/env-sync.js';
import { retentionOf } from '../tokens/retention.js';
import { openVault } from '../tokens/vault.js';
import type { PanelContext } from './context.js';

export function envHandlers(ctx: PanelContext) {
  const config = () => ctx.loaded.config;
  const scope = () => envScope(config().env, ctx.loaded.path);
  /** The UI may only look at folders under env.root, and files there or listed as targets (links are not followed out). */
  const auditScope = async (root: string | undefined) => {
    const s = scope();
    if (root === undefined) return s;
    const at = scopeAt(s, path.resolve(s.root, root));
    const real = async (p: string) => fs.realpath(p).catch(() => p);
    if (!isInside(s.root, at.root) || !isInside(await real(s.root), await real(at.root))) {
      throw new PanelError(`${root} is outside the env root ${s.root}`, 'env-outside-root', 'Set env.root in the configuration to the project folder.');
    }
    return at;
  };
  const inspect = (reveal: boolean) => ({ scope: scope(), confine: true, reveal });
  return {
    envAudit: async (input) => auditEnvTree(await auditScope(input.root), config().env),
    envDiff: async ({ a, b, reveal }) => diffEnvFiles(a, b, inspect(reveal)),
    envShow: async ({ file, dialect, reveal }) => showEnvFile(file, dialect, inspect(reveal)),
    envSyncPreview: async () => previewOf(await planPanelSync(config(), ctx.paths, ctx.loaded.path, ctx.vaultKeys)),
    // A credential operation: under the credential lock and journaled (a rotation and a sync never interleave).
    envSyncApply: async () =>
      syncEnvTargets({
        vault: openVault(config(), ctx.paths),
        plan: () => planPanelSync(config(), ctx.paths, ctx.loaded.path, ctx.vaultKeys),
        actor: actorName('ui'),
        apply: { backupDir: envBackupDir(ctx.paths) },
        retention: retentionOf(config(), envBackupDir(ctx.paths)),
      }),
  } satisfies Partial<PanelHandlers>;
}
