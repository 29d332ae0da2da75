import path from 'node:path';
import type { EnvFinding } from '../../contract/ops/env.js';
import { auditEnvTree, envScope } from '../../env/index.js';
import { fail, ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';

const where = (f: EnvFinding) => `${f.file}:${f.line}${f.key ? ` ${f.key}` : ''}`;
const list = (fs: EnvFinding[]) => `${fs.slice(0, 3).map((f) => `${where(f)}: ${f.message}`).join('; ')}${fs.length > 3 ? `; and ${fs.length - 3} more` : ''}`;

/** envSyncApply rewrites only the configured targets: offer it in one click only when every offending file is one. */
function syncFixes(targets: ReadonlyMap<string, unknown>, root: string, findings: EnvFinding[]): boolean {
  return findings.every((f) => targets.has(path.resolve(root, f.file)));
}

/**
 * The .env files under env.root agree with each other and survive their readers (no
 * compose-unsafe values); a token file others may read is a warning with its fix.
 */
export const envConsistencyCheck: HealthCheck = {
  id: 'env-consistency',
  title: '.env files consistent',
  async run(ctx) {
    // Without env.root or targets nothing was chosen: the config file's folder is rarely a project.
    if (!ctx.config.env.root && ctx.config.env.targets.length === 0) {
      return unknown('env.root is not set and no env targets are configured, so no .env files are checked', { text: 'Set env.root in the config to the project folder that holds the .env files.' });
    }
    const scope = envScope(ctx.config.env, ctx.configFile);
    const root = scope.root;
    const audit = await auditEnvTree(scope, ctx.config.env);
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
  },
};
