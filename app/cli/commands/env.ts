import { Option, type Command } from 'commander';
import { dialects, type Dialect } from '../../config/schema.js';
import type { EnvAudit, EnvDiff, EnvSyncPreview } from '../../contract/ops/env.js';
import { auditEnvTree, diffEnvFiles, envScope, previewOf, scopeAt, showEnvFile } from '../../env/index.js';
import { envBackupDir, planPanelSync } from '../../env/sources.js';
import { actorName } from '../../tokens/audit-log.js';
import { syncEnvTargets } from '../../tokens/env-sync.js';
import { retentionOf } from '../../tokens/retention.js';
import { openVault } from '../../tokens/vault.js';
import type { CliContext } from '../context.js';

const REVEAL_NOTE = 'Secret values are masked (length and fingerprint); pass --reveal to print them.';

function auditText(a: EnvAudit): string {
  const lines = [`${a.files.length} env files under ${a.root}:`];
  for (const f of a.files) {
    const via = f.referencedBy.length ? `, env_file of ${f.referencedBy.map((r) => `${r.compose} (${r.service})`).join(', ')}` : '';
    lines.push(`  ${f.file}  [${f.dialect}: ${f.dialectSource}${via}]  ${f.exists ? `${f.keys} keys, ${f.secretKeys} secret` : 'missing'}${f.error ? `  UNREADABLE: ${f.error.message}` : ''}`);
  }
  lines.push('');
  if (a.findings.length === 0) lines.push('no findings');
  for (const f of a.findings) lines.push(`${f.severity === 'error' ? 'ERROR' : 'warn '} ${f.file}:${f.line}${f.key !== undefined ? ` ${f.key}` : ''} [${f.kind}] ${f.message}`, `      fix: ${f.fix}`);
  const errors = a.findings.filter((f) => f.severity === 'error').length;
  lines.push('', `${errors} errors, ${a.findings.length - errors} warnings`);
  return lines.join('\n');
}

function diffText(d: EnvDiff, revealed: boolean): string {
  const lines = [`A: ${d.a}`, `B: ${d.b}`];
  for (const v of d.onlyA) lines.push(`< ${v.key}=${v.value}`);
  for (const v of d.onlyB) lines.push(`> ${v.key}=${v.value}`);
  for (const c of d.changed) lines.push(`~ ${c.key}: ${c.a}  ->  ${c.b}`);
  lines.push(`${d.onlyA.length} only in A, ${d.onlyB.length} only in B, ${d.changed.length} changed, ${d.same.length} the same`);
  if (!revealed) lines.push(REVEAL_NOTE);
  return lines.join('\n');
}

function syncText(p: EnvSyncPreview, applied: boolean): string {
  const lines: string[] = [];
  if (p.targets.length === 0) lines.push('no env targets configured (env.targets in the config)');
  for (const t of p.targets) {
    lines.push(`${t.file} [${t.dialect}]${t.error ? `  CANNOT SYNC: ${t.error}` : t.changed ? (applied ? '  written' : '  would change') : '  up to date'}`);
    for (const k of t.keys) lines.push(`  ${k.key} <- ${k.source}: ${k.status}${k.note ? ` (${k.note})` : ''}`);
    for (const d of t.diff) lines.push(`    ${d}`);
  }
  for (const m of p.missing) lines.push(`${m.source}: ${m.reason}`);
  return lines.join('\n');
}

export function registerEnvCommands(program: Command, cli: CliContext): void {
  const env = program.command('env').description('find, compare, lint and regenerate .env files, each read the way its reader (compose, dotenv, raw) reads it');

  env
    .command('audit')
    .description('list env files under the root and report problems; exit 1 if any finding is an error')
    .option('--root <dir>', "folder to scan (default: env.root, else the config file's folder); configured targets elsewhere are left out")
    .action(async (opts: { root?: string }) => {
      const { config, path: configFile } = await cli.config();
      const scope = envScope(config.env, configFile);
      const audit = await auditEnvTree(opts.root ? scopeAt(scope, opts.root) : scope, config.env);
      cli.print({ json: audit, human: () => auditText(audit) });
      if (audit.findings.some((f) => f.severity === 'error')) process.exitCode = 1;
    });

  env
    .command('diff <a> <b>')
    .description('compare what two env files hold, each read with its own dialect')
    .addOption(new Option('--dialect-a <dialect>', 'reader for A (default: guessed)').choices(dialects))
    .addOption(new Option('--dialect-b <dialect>', 'reader for B (default: guessed)').choices(dialects))
    .option('--reveal', 'print secret values instead of masking them', false)
    .action(async (a: string, b: string, opts: { dialectA?: Dialect; dialectB?: Dialect; reveal: boolean }) => {
      const { config, path: configFile } = await cli.config();
      // File arguments are the user's: they start from the current folder.
      const diff = await diffEnvFiles(a, b, { ...opts, scope: envScope(config.env, configFile), base: process.cwd() });
      cli.print({ json: diff, human: () => diffText(diff, opts.reveal), reveal: opts.reveal });
    });

  env
    .command('show <file>')
    .description('print what a reader sees in the file (compose: interpolated against this environment); exit 1 if it rejects the file')
    .addOption(new Option('--dialect <dialect>', 'reader to use (default: the configured target, else compose beside a compose file, else dotenv)').choices(dialects))
    .option('--reveal', 'print secret values instead of masking them', false)
    .action(async (file: string, opts: { dialect?: Dialect; reveal: boolean }) => {
      const { config, path: configFile } = await cli.config();
      const shown = await showEnvFile(file, opts.dialect, { scope: envScope(config.env, configFile), base: process.cwd(), reveal: opts.reveal });
      const human = () =>
        shown.error
          ? `${shown.file} [${shown.dialect}]: ${shown.error.message} (line ${shown.error.line})`
          : [`${shown.file} [${shown.dialect}]`, ...Object.entries(shown.values ?? {}).map(([k, v]) => `${k}=${v}`), ...(opts.reveal ? [] : [REVEAL_NOTE])].join('\n');
      cli.print({ json: shown, human, reveal: opts.reveal });
      if (shown.error) process.exitCode = 1;
    });

  env
    .command('sync')
    .description('write the ComfyUI URL and credential into every env target of the config, quoted for its dialect (backups kept, verified by reading back)')
    .option('--dry-run', 'only show what would change (masked)', false)
    .action(async (opts: { dryRun: boolean }) => {
      const { config, path: configFile } = await cli.config();
      const plan = () => planPanelSync(config, cli.paths, configFile);
      const result = opts.dryRun
        ? previewOf(await plan())
        : await syncEnvTargets({ vault: openVault(config, cli.paths), plan, actor: actorName('cli'), apply: { backupDir: envBackupDir(cli.paths) }, retention: retentionOf(config, envBackupDir(cli.paths)) });
      cli.print({ json: result, human: () => syncText(result, !opts.dryRun) });
      if (result.missing.length > 0 || result.targets.some((t) => t.error)) process.exitCode = 1;
    });
}
