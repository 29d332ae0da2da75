import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PanelHandlers } from '../contract/index.js';
import { auditEnvTree, applyEnvSync, diffEnvFiles, envScope, isInside, previewOf, scopeAt, showEnvFile } from '../env/index.js';
import { envBackupDir, planPanelSync } from '../env/sources.js';
import { PanelError } from '../errors.js';
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
    envSyncApply: async () => applyEnvSync(await planPanelSync(config(), ctx.paths, ctx.loaded.path, ctx.vaultKeys), { backupDir: envBackupDir(ctx.paths) }),
  } satisfies Partial<PanelHandlers>;
}
