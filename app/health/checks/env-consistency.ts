import path from 'node:path';
import type { PanelConfig } from '../../config/schema.js';
import type { EnvFinding } from '../../contract/ops/env.js';
import { auditEnvTree } from '../../env/index.js';
import { fail, ok, unknown, warn, type HealthCheck, type Verdict } from '../check.js';
import { runIsolated } from '../isolate.js';
import { fixFor } from '../troubleshoot.js';

const where = (f: EnvFinding) => `${f.file}:${f.line}${f.key ? ` ${f.key}` : ''}`;
const list = (fs: EnvFinding[]) => `${fs.slice(0, 3).map((f) => `${where(f)}: ${f.message}`).join('; ')}${fs.length > 3 ? `; and ${fs.length - 3} more` : ''}`;

export interface EnvConsistencyInput {
  root: string;
  env: PanelConfig['env'];
  /** Absolute paths of the configured env targets. */
  targets: string[];
}

/**
 * The verdict from an audit of the tree: plain data in, plain data out, so it runs in the
 * health worker (its work grows with the operator's files). envSyncApply rewrites only the
 * configured targets: it is offered in one click only when every offending file is one.
 */
export async function envConsistencyVerdict(input: EnvConsistencyInput): Promise<Verdict> {
  const { root } = input;
  const audit = await auditEnvTree(root, input.env);
  const unsafe = audit.findings.filter((f) => f.kind === 'compose-unsafe');
  const conflicts = audit.findings.filter((f) => f.kind === 'conflict');
  const bad = [...unsafe, ...conflicts];
  if (bad.length) {
    const targets = new Set(input.targets);
    const cls = unsafe.length ? 'compose-unsafe-hash' : 'env-conflict';
    const fix = fixFor(cls, { text: bad[0]!.fix, withoutAction: !bad.every((f) => targets.has(path.resolve(root, f.file))) });
    return fail(`${bad.length} problem${bad.length === 1 ? '' : 's'} in .env files: ${list(bad)}`, fix);
  }
  // Token differences are token-consistency's red; other findings are worth a look but break nothing for sure.
  const other = audit.findings.filter((f) => f.kind !== 'token-mismatch');
  if (other.length) return warn(`${other.length} finding${other.length === 1 ? '' : 's'} in .env files: ${list(other)}`, { text: other[0]!.fix });
  return ok(`no conflicting or compose-unsafe values in ${audit.files.length} .env file${audit.files.length === 1 ? '' : 's'} under ${root}`);
}

/** The .env files under env.root agree with each other and survive their readers (no compose-unsafe values). */
export const envConsistencyCheck: HealthCheck = {
  id: 'env-consistency',
  title: '.env files consistent',
  async run(ctx, signal) {
    if (!ctx.config.env.root) return unknown('env.root is not set, so no .env files are checked', { text: 'Set env.root in the config to the project folder that holds the .env files.' });
    const input: EnvConsistencyInput = { root: ctx.envRoot, env: ctx.config.env, targets: ctx.config.env.targets.map((t) => path.resolve(ctx.envRoot, t.path)) };
    const { checkTimeoutMs, checkMemoryMb } = ctx.config.health;
    return runIsolated('env-consistency', input, { maxHeapMb: checkMemoryMb, deadlineMs: checkTimeoutMs, ...(signal ? { signal } : {}) });
  },
};
