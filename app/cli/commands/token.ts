import { Option, type Command } from 'commander';
import { dialects, type Dialect } from '../../config/schema.js';
import type { StagedRotation } from '../../contract/ops/fleet.js';
import type { RotationResult, TokenAudit, TokenImportResult } from '../../contract/ops/tokens.js';
import { ConfigError } from '../../errors.js';
import { actorName } from '../../tokens/audit-log.js';
import { tokenActions } from '../../tokens/actions.js';
import type { CliContext } from '../context.js';

const TOKEN_NOTE = 'The API token is the bcrypt hash on line 1 of login/PASSWORD: the hash is a secret too. Only fingerprints are shown.';

async function actions(cli: CliContext) {
  const loaded = await cli.config();
  return tokenActions(loaded.config, cli.paths, {
    actor: actorName('cli'),
    configFile: loaded.path,
    onProgress: (line) => cli.progress(`  ${line}`),
    onStep: (s) => {
      if (s.status !== 'started') cli.progress(`  ${s.status === 'ok' ? 'ok  ' : 'FAIL'} ${s.step}${s.ms !== undefined ? ` (${s.ms} ms)` : ''}${s.message ? `: ${s.message}` : ''}`);
    },
  });
}

const stageOf = (wave: number) => (wave === 0 ? 'canary' : `wave ${wave}`);

/** `token rotate --all`: each instance rotated with its own view of the config, paths and vault. */
async function stagedFromCli(cli: CliContext, o: { canary?: string; wave: number; resume: boolean; username?: string }): Promise<StagedRotation> {
  const [loaded, { instanceConfig, instancePaths, listInstances }, { stagedRotation }] = await Promise.all([cli.wholeConfig(), import('../../config/instances.js'), import('../../fleet/staged-rotation.js')]);
  return stagedRotation({
    ids: listInstances(loaded.config).map((i) => i.id),
    ...(o.canary ? { canary: o.canary } : {}),
    wave: o.wave,
    resume: o.resume,
    dataDir: cli.rootPaths.dataDir,
    rotate: (id) =>
      tokenActions(instanceConfig(loaded.config, id), instancePaths(cli.rootPaths, id), {
        actor: actorName('cli'),
        configFile: loaded.path,
        onStep: (s) => {
          if (s.status !== 'started') cli.progress(`  [${id}] ${s.status === 'ok' ? 'ok  ' : 'FAIL'} ${s.step}${s.ms !== undefined ? ` (${s.ms} ms)` : ''}${s.message ? `: ${s.message}` : ''}`);
        },
      }).rotate(o.username),
    onRow: (r) => cli.progress(r.outcome === 'not-started' ? `[${r.id}] ${stageOf(r.wave)}: rotating` : `[${r.id}] ${r.outcome}${r.error ? `: ${r.error}` : ''}`),
  });
}

function stagedText(r: StagedRotation): string {
  const rows = r.instances.map((i) => `  ${i.id.padEnd(20)} ${stageOf(i.wave).padEnd(8)} ${i.outcome.padEnd(12)} ${i.fingerprint ?? ''}${i.error ? `  ${i.error}` : ''}`);
  const tail = r.halted
    ? `HALTED at ${r.haltedAt ?? '?'}: it rolled back, the instances after it were not touched. Fix the cause, then: comfy-panel token rotate --all --resume`
    : 'every instance rotated';
  return [`staged rotation ${r.rotationId}`, '  instance             stage    outcome      token in force', ...rows, tail, TOKEN_NOTE].join('\n');
}

function printStaged(cli: CliContext, r: StagedRotation): void {
  cli.print({ json: r, human: () => stagedText(r) });
  if (r.halted) process.exitCode = 1;
}

const yesNo = (v: boolean | null) => (v === null ? 'not checked' : v ? 'yes' : 'NO');

function auditText(a: TokenAudit): string {
  const v = a.vault;
  const lines = [
    v.present ? `vault: ${v.fingerprint} (user ${v.username}, since ${v.createdAt})${v.previousFingerprint ? `, previous ${v.previousFingerprint}` : ''}` : 'vault: no credential (run `comfy-panel token init` or `token import`)',
    `vault key: ${v.keyBackend}${v.warning ? ` — ${v.warning}` : ''}`,
    '',
    ...a.locations.map((l) => `  ${l.status.padEnd(10)} ${(l.fingerprint ?? '').padEnd(16)} ${l.name}  ${l.path}${l.detail ? `  (${l.detail})` : ''}`),
    '',
    `live: accepts current token: ${yesNo(a.live.acceptsCurrent)}; rejects no token: ${yesNo(a.live.rejectsAnonymous)}; rejects previous token: ${yesNo(a.live.rejectsPrevious)}${a.live.error ? ` (${a.live.error})` : ''}`,
  ];
  if (a.distinctTokens.length > 1) {
    lines.push(`${a.distinctTokens.length} different tokens in use: ${a.distinctTokens.map((t) => `${t.fingerprint} [${t.knownAs}] in ${t.locations.join(', ')}`).join('; ')}`);
    lines.push('  unify them with: comfy-panel token unify --to <fingerprint>');
  }
  const pending = a.pendingRotation;
  if (pending?.damaged) lines.push(`the journal of an interrupted operation is damaged: ${pending.damaged}`);
  else if (pending) lines.push(`an interrupted ${pending.kind === 'env-sync' ? 'env sync' : 'rotation'} ${pending.rotationId} (step ${pending.step}) is pending: run comfy-panel token recover`);
  lines.push(a.consistent ? 'consistent' : 'NOT consistent', TOKEN_NOTE);
  return lines.join('\n');
}

function rotationText(r: RotationResult): string {
  const head =
    r.outcome === 'committed'
      ? `${r.kind}: done. Token in force: ${r.fingerprint}${r.previousFingerprint ? ` (was ${r.previousFingerprint}, now rejected)` : ''}`
      : r.outcome === 'nothing-to-do'
        ? 'nothing to recover'
        : r.outcome === 'rolled-back'
          ? `${r.kind}: FAILED at step ${r.failedStep}: ${r.error}\n  every location was restored; the token in force is still ${r.fingerprint ?? '(none)'}`
          : `${r.kind}: FAILED at step ${r.failedStep} and the rollback did not complete: ${r.error}\n  fix the cause, then run: comfy-panel token recover`;
  return `${head}\n${TOKEN_NOTE}`;
}

function printRotation(cli: CliContext, r: RotationResult): void {
  cli.print({ json: r, human: () => rotationText(r) });
  if (!r.ok) process.exitCode = 1;
}

function importText(r: TokenImportResult): string {
  return `imported ${r.fingerprint} from ${r.source} into the vault${r.previousFingerprint ? ` (previous: ${r.previousFingerprint})` : ''}; no location was changed. Run \`comfy-panel token audit\` next.`;
}

function parseEnvRef(ref: string): { file: string; key: string } {
  const i = ref.lastIndexOf(':');
  if (i <= 0 || i === ref.length - 1) throw new ConfigError(`--from-env ${ref}: expected FILE:KEY`, 'e.g. --from-env notebooks/.env:COMFYUI_BEARER_TOKEN');
  return { file: ref.slice(0, i), key: ref.slice(i + 1) };
}

const dialectOption = (description: string) => new Option('--dialect <dialect>', description).choices(dialects);

export function registerTokenCommands(program: Command, cli: CliContext): void {
  const token = program.command('token').description('the ComfyUI credential: audit every copy, rotate with verification, adopt, hand to clients');

  token
    .command('audit')
    .description('compare every copy of the token with the vault and check what the server accepts (exit 1 if not consistent)')
    .action(async () => {
      const a = await (await actions(cli)).audit();
      cli.print({ json: a, human: () => auditText(a) });
      if (!a.consistent) process.exitCode = 1;
    });

  token
    .command('rotate')
    .description('new password and hash, written everywhere, ComfyUI restarted and verified; rolled back on any failure; keeps the current username. With --all: every instance, in stages')
    .option('--username <name>', 'write this username on line 2 of PASSWORD instead of the current one')
    .option('--canary <id>', 'with --all: the instance rotated first, alone (default: the first)')
    .option('--wave <n>', 'with --all: how many instances rotate at once after the canary', '1')
    .option('--resume', 'with --all: continue the staged rotation that halted (its committed instances are skipped)')
    .action(async (o: { username?: string; canary?: string; wave: string; resume?: boolean }) => {
      if (!cli.all) {
        if (o.canary || o.resume) throw new ConfigError('--canary and --resume belong to a staged rotation', 'Add --all.');
        return printRotation(cli, await (await actions(cli)).rotate(o.username));
      }
      const wave = Number(o.wave);
      if (!Number.isInteger(wave) || wave < 1 || wave > 100) throw new ConfigError(`--wave ${o.wave}: not a number of instances (1-100)`);
      printStaged(cli, await stagedFromCli(cli, { wave, resume: Boolean(o.resume), ...(o.canary ? { canary: o.canary } : {}), ...(o.username ? { username: o.username } : {}) }));
    });

  token
    .command('init')
    .description('create the first credential and write it to every location')
    .option('--force', 'replace the credential the vault already holds')
    .action(async (o: { force?: boolean }) => printRotation(cli, await (await actions(cli)).init(Boolean(o.force))));

  token
    .command('recover')
    .description('settle a rotation that was interrupted (forward if it was verified, else back)')
    .action(async () => printRotation(cli, await (await actions(cli)).recover()));

  token
    .command('unify')
    .description('write the token with this fingerprint (see `token audit`) to every location, restart and verify')
    .requiredOption('--to <fingerprint>', 'fingerprint such as fp:0123456789ab')
    .action(async (o: { to: string }) => {
      if (!/^fp:[0-9a-f]{12}$/.test(o.to)) throw new ConfigError(`--to ${o.to}: not a fingerprint`, 'Copy one from `comfy-panel token audit`, e.g. fp:0123456789ab.');
      printRotation(cli, await (await actions(cli)).unify(o.to));
    });

  token
    .command('import')
    .description("adopt an existing deployment's token into the vault (no location is written)")
    .option('--from-container', "line 1 of the container's login/PASSWORD")
    .option('--from-env <FILE:KEY>', 'the value of KEY in an env file')
    .addOption(dialectOption('how FILE is read (default: its env target dialect, else dotenv)'))
    .action(async (o: { fromContainer?: boolean; fromEnv?: string; dialect?: Dialect }) => {
      if (Boolean(o.fromContainer) === Boolean(o.fromEnv)) throw new ConfigError('give exactly one of --from-container or --from-env FILE:KEY');
      const a = await actions(cli);
      const ref = o.fromEnv ? parseEnvRef(o.fromEnv) : undefined;
      const r = ref ? await a.importFromEnv(ref.file, ref.key, o.dialect) : await a.importFromContainer();
      cli.print({ json: r, human: () => importText(r) });
    });

  token
    .command('client-env')
    .description('PRINTS THE SECRET TOKEN: COMFYUI_URL and COMFYUI_BEARER_TOKEN lines for a notebook or script')
    .addOption(dialectOption('the reader of the lines').default('dotenv'))
    .action(async (o: { dialect: Dialect }) => {
      const r = await (await actions(cli)).clientEnv(o.dialect);
      // Deliberately not through cli.print: its redaction would hide the token this command exists to hand over.
      process.stdout.write(cli.json ? `${JSON.stringify(r, null, 2)}\n` : `${r.lines.join('\n')}\n`);
    });
}
