import { Command, CommanderError } from 'commander';
import { PanelError, ConfigError } from '../errors.js';
import { redact } from '../redact.js';
import { appVersion } from '../version.js';
import { registerConfigCommands } from './commands/config.js';
import { registerContainerCommands } from './commands/container.js';
import { registerEnvCommands } from './commands/env.js';
import { registerGatewayCommands } from './commands/gateway.js';
import { registerGenerateCommands } from './commands/generate.js';
import { registerHealthCommands } from './commands/health.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTokenCommands } from './commands/token.js';
import { createCliContext, EXIT, type CliContext } from './context.js';

/** Builds the whole command tree; exported so tests can run commands in-process. */
export function buildProgram(): Command {
  const program = new Command('comfy-panel')
    .description('Control panel for a ComfyUI Docker container protected by ComfyUI-Login')
    .version(appVersion, '-V, --version')
    .option('-c, --config <file>', 'config file (default: the user config folder, see `comfy-panel config path`)')
    .option('--json', 'print one machine-readable JSON document on stdout')
    .showHelpAfterError()
    .exitOverride();
  const cli: CliContext = createCliContext(() => program.opts());
  registerServeCommand(program, cli);
  registerConfigCommands(program, cli);
  registerContainerCommands(program, cli);
  registerGenerateCommands(program, cli);
  registerTokenCommands(program, cli);
  registerHealthCommands(program, cli);
  registerEnvCommands(program, cli);
  registerGatewayCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  // Commands report a failed check through process.exitCode; start each run clean.
  process.exitCode = undefined;
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const json = Boolean(program.opts().json);
    const code = err instanceof ConfigError ? EXIT.usage : EXIT.checkFailed;
    const message = redact(err instanceof Error ? err.message : String(err));
    const fix = err instanceof PanelError ? err.fix : undefined;
    if (json) process.stdout.write(`${JSON.stringify({ error: { message, fix, code: err instanceof PanelError ? err.code : 'error' } }, null, 2)}\n`);
    else process.stderr.write(`comfy-panel: ${message}${fix ? `\n  fix: ${fix}` : ''}\n`);
    return code;
  }
}
