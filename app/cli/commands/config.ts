import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerConfigCommands(program: Command, cli: CliContext): void {
  const config = program.command('config').description('show, locate and validate the configuration');
  config
    .command('path')
    .description('print where the config file and the data of the instance (--instance) live')
    .action(async () => {
      const loaded = await cli.config();
      const value = { configFile: loaded.path, configured: loaded.configured, instance: loaded.instance, dataDir: cli.paths.dataDir, logDir: cli.paths.logDir };
      cli.print({ json: value, human: () => Object.entries(value).map(([k, v]) => `${k}: ${v}`).join('\n') });
    });
  config
    .command('show')
    .description('print the effective configuration (defaults filled in; every instance)')
    .action(async () => {
      const loaded = await cli.wholeConfig();
      cli.print({ json: { path: loaded.path, configured: loaded.configured, config: loaded.config }, human: JSON.stringify(loaded.config, null, 2) });
    });
  config
    .command('validate')
    .description('check the config file against the schema; exit 2 naming each bad field')
    .action(async () => {
      const loaded = await cli.wholeConfig();
      cli.print({ json: { ok: true, path: loaded.path, configured: loaded.configured }, human: `${loaded.path}: ${loaded.configured ? 'valid' : 'absent (defaults apply)'}` });
    });
}
