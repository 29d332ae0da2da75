import path from 'node:path';
import type { PanelConfig } from '../../config/schema.js';
import type { EnvFinding } from '../../contract/ops/env.js';
import { auditEnvTree, envScope, type EnvScope } from '../../env/index.js';
import { fail, ok, unknown, warn, type HealthCheck, type Verdict } from '../check.js';
import { runIsolated } from '../isolate.js';
import { fixFor } from '../troubleshoot.js';

const where = (f: EnvFinding) => `${f.file}:${f.line}${f.key ? ` ${f.key}` : ''}`;
const list = (fs: EnvFinding[]) => `${fs.slice(0, 3).map((f) => `${where(f)}: ${f.message}`).join('; ')}${fs.length > 3 ? `; and ${fs.length - 3} more` : ''}`;

/** envSyncApply rewrites only the configured targets: offer it in one click only when every offending file is one. */
function syncFixes(targets: ReadonlyMap<string, unknown>, root: string, findings: EnvFinding[]): boolean {
  return findings.every((f) => targets.has(path.resolve(root, f.file)));
}

export interface EnvConsistencyInput {
  /** The env root and the configured targets (a Map: structured-cloned into the worker). */
  scope: EnvScope;
  env: PanelConfig['env'];
}

/**
 * The verdict from an audit of the tree: plain data in, plain data out, so it runs in the
 * health worker (its work grows with the operator's files).
 */
export async function envConsistencyVerdict({ scope, env }: EnvConsistencyInput): Promise<Verdict> {
  const root = scope.root;
  const audit = await auditEnvTree(scope, env);
  const unsafe = audit.findings.filter((f) => f.kind === 'compose-unsafe');
  const conflicts = audit.findings.filter((f) => f.kind === 'conflict');
  const bad = [...unsafe, ...conflicts];
  if (bad.length) {
    const cls = unsafe.length ? 'compose-unsafe-hash' : 'env-conflict';
    const fix = fixFor(cls, { text: bad[0]!.fix, withoutAction: !syncFixes(scope.targets, root, bad) });
    return fail(`${bad.length} problem${bad.length === 1 ? '' : 's'} in .env files: ${list(bad)}`, fix);
  }
  // A token others may read breaks nothing today but exposes the API: a warning with its own fix, named first.
  const exposed = audit.findings.filter((f) => f.kind === 'readable-secret');
  // Token differences are token-consistency's red; other findings are worth a look but break nothing for sure.
  const other = [...exposed, ...audit.findings.filter((f) => f.kind !== 'token-mismatch' && f.kind !== 'readable-secret')];
  if (other.length) {
    const fix = exposed.length ? fixFor('env-readable-secret', { text: exposed[0]!.fix, withoutAction: !syncFixes(scope.targets, root, exposed) }) : { text: other[0]!.fix };
    return warn(`${other.length} finding${other.length === 1 ? '' : 's'} in .env files: ${list(other)}`, fix);
  }
  return ok(`no conflicting or compose-unsafe values in ${audit.files.length} .env file${audit.files.length === 1 ? '' : 's'} under ${root}`);
}

/**
 * The .env files under env.root agree with each other and survive their readers (no
 * compose-unsafe values); a token file others may read is a warning with its fix.
 */
export const envConsistencyCheck: HealthCheck = {
  id: 'env-consistency',
  title: '.env files consistent',
  async run(ctx, signal) {
    // Without env.root or targets nothing was chosen: the config file's folder is rarely a project.
    if (!ctx.config.env.root && ctx.config.env.targets.length === 0) {
      return unknown('env.root is not set and no env targets are configured, so no .env files are checked', { text: 'Set env.root in the config to the project folder that holds the .env files.' });
    }
    const input: EnvConsistencyInput = { scope: envScope(ctx.config.env, ctx.configFile), env: ctx.config.env };
    const { checkTimeoutMs, checkMemoryMb } = ctx.config.health;
    return runIsolated('env-consistency', input, { maxHeapMb: checkMemoryMb, deadlineMs: checkTimeoutMs, ...(signal ? { signal } : {}) });
  },
};
