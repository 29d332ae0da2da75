import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { planAdoption } from '../../adopt/index.js';
import type { AdoptionPlan } from '../../contract/ops/health.js';
import type { TokenImportResult } from '../../contract/ops/tokens.js';
import { ConfigError } from '../../errors.js';
import { actorName } from '../../tokens/audit-log.js';
import { tokenActions } from '../../tokens/actions.js';
import { EXIT, type CliContext } from '../context.js';

interface SetupOptions {
  adopt: string;
  dockerHost?: string;
  importFrom?: string;
  yes?: boolean;
}

/** `container`, or ENVFILE:KEY (the last colon splits: a Windows path keeps its drive letter). */
function parseImportFrom(value: string): { kind: 'container' } | { kind: 'env'; file: string; key: string } {
  if (value === 'container') return { kind: 'container' };
  const i = value.lastIndexOf(':');
  if (i <= 0 || i === value.length - 1) throw new ConfigError(`--import-from ${value}: expected "container" or ENVFILE:KEY`, 'e.g. --import-from container, or --import-from .env:COMFYUI_BEARER_TOKEN');
  return { kind: 'env', file: value.slice(0, i), key: value.slice(i + 1) };
}

export function planText(plan: AdoptionPlan): string {
  const lines = [
    `adopt ${plan.container}${plan.compose ? ` (compose project ${plan.compose.project}, service ${plan.compose.service}, in ${plan.compose.workingDir})` : ''}:`,
    ...plan.adopted.map((a) => `  ${a.field} = ${a.value}    [${a.from}]`),
    plan.diff.length ? 'changes to the config:' : 'the config already says all this',
    ...plan.diff.map((c) => `  ${c.field}: ${c.from} -> ${c.to}`),
  ];
  if (plan.notes.length) lines.push('notes:', ...plan.notes.map((n) => `  - ${n}`));
  if (plan.tokenSources.length) lines.push(`token found in: ${plan.tokenSources.map((s) => `${s.source} (${s.fingerprint})`).join(', ')}`);
  return lines.join('\n');
}

/** Asks on a terminal; false when there is none (scripts pass --yes). */
export async function confirmOnTty(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function registerSetupCommands(program: Command, cli: CliContext): void {
  program
    .command('setup')
    .description('non-interactive first run: adopt an existing container (docker inspect, compose labels and env files) into the config, as the wizard does')
    .requiredOption('--adopt <name>', 'the container to adopt')
    .option('--docker-host <url>', 'the engine it runs on (default: the configured one)')
    .option('--import-from <source>', 'then import its token into the vault: "container" (login/PASSWORD) or ENVFILE:KEY (relative to the adopted env root)')
    .option('-y, --yes', 'write without asking')
    .action(async (opts: SetupOptions) => {
      const importFrom = opts.importFrom === undefined ? undefined : parseImportFrom(opts.importFrom);
      const loaded = await cli.config();
      const plan = await planAdoption(loaded.config, { containerName: opts.adopt, configFile: loaded.path, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}) });
      if (!opts.yes) {
        if (!cli.json) process.stderr.write(`${planText(plan)}\n`);
        if (cli.json || !(await confirmOnTty(`write ${loaded.path}?`))) {
          process.exitCode = EXIT.checkFailed;
          cli.print({ json: { written: false, configFile: loaded.path, ...plan }, human: 'nothing written (pass --yes to write without asking)' });
          return;
        }
      }
      const config = await cli.saveInstanceConfig(plan.config);
      let imported: TokenImportResult | undefined;
      if (importFrom) {
        const actions = tokenActions(config, cli.paths, { actor: actorName('cli'), configFile: loaded.path });
        imported = importFrom.kind === 'container' ? await actions.importFromContainer() : await actions.importFromEnv(importFrom.file, importFrom.key);
      }
      cli.print({
        json: { written: true, configFile: loaded.path, ...plan, config, ...(imported ? { imported } : {}) },
        human: () =>
          [
            ...(opts.yes ? [planText(plan)] : []),
            `wrote ${loaded.path}`,
            ...(imported ? [`imported token ${imported.fingerprint} (user ${imported.username}) from ${imported.source}`] : []),
          ].join('\n'),
      });
    });
}
