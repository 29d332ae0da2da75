import path from 'node:path';
import type { PanelHandlers } from '../contract/index.js';
import { auditEnvTree, diffEnvFiles, previewOf, showEnvFile } from '../env/index.js';
import { envBackupDir, envRoot, planPanelSync } from '../env/sources.js';
import { PanelError } from '../errors.js';
import { actorName } from '../tokens/audit-log.js';
import { syncEnvTargets } from '../tokens/env-sync.js';
import { retentionOf } from '../tokens/retention.js';
import { openVault } from '../tokens/vault.js';
import type { PanelContext } from './context.js';

export function envHandlers(ctx: PanelContext) {
  const config = () => ctx.loaded.config;
  const root = () => envRoot(config());
  /** The UI may only read env files under env.root or listed as targets. */
  const allowed = (file: string, isRoot = false): string => {
    const abs = path.resolve(root(), file);
    const rel = path.relative(root(), abs);
    const inside = (isRoot || rel !== '') && !rel.startsWith('..') && !path.isAbsolute(rel);
    if (inside || config().env.targets.some((t) => path.resolve(root(), t.path) === abs)) return abs;
    throw new PanelError(`${file} is outside the env root ${root()}`, 'env-outside-root', 'Set env.root in the configuration to the project folder, or add the file to env.targets.');
  };
  const inspect = (reveal: boolean) => ({ root: root(), config: config().env, reveal });
  return {
    envAudit: async (input) => auditEnvTree(input.root ? allowed(input.root, true) : root(), config().env),
    envDiff: async ({ a, b, reveal }) => diffEnvFiles(allowed(a), allowed(b), inspect(reveal)),
    envShow: async ({ file, dialect, reveal }) => showEnvFile(allowed(file), dialect, inspect(reveal)),
    envSyncPreview: async () => previewOf(await planPanelSync(config(), ctx.paths)),
    // A credential operation: under the credential lock and journaled (a rotation and a sync never interleave).
    envSyncApply: async () =>
      syncEnvTargets({ vault: openVault(config(), ctx.paths), plan: () => planPanelSync(config(), ctx.paths), actor: actorName('ui'), apply: { backupDir: envBackupDir(ctx.paths) }, retention: retentionOf(config(), envBackupDir(ctx.paths)) }),
  } satisfies Partial<PanelHandlers>;
}
