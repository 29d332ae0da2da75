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
import { registerKeyCommands } from './commands/key.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTokenCommands } from './commands/token.js';
import { createCliContext, EXIT, type CliContext } from './context.js';

/**
 * Builds the whole command tree; exported so tests can run commands in-process. With `json`
 * commander's own error text stays off stderr: the caller prints the error as JSON instead.
 */
export function buildProgram(opts: { json?: boolean } = {}): Command {
  const program = new Command('comfy-panel')
    .description('Control panel for a ComfyUI Docker container protected by ComfyUI-Login')
    .version(appVersion, '-V, --version')
    .option('-c, --config <file>', 'config file (default: the user config folder, see `comfy-panel config path`)')
    .option('--json', 'print one machine-readable JSON document on stdout')
    .exitOverride();
  // Set before the subcommands are added: they inherit it.
  if (opts.json) program.configureOutput({ outputError: () => undefined });
  else program.showHelpAfterError();
  const cli: CliContext = createCliContext(() => program.opts());
  registerServeCommand(program, cli);
  registerConfigCommands(program, cli);
  registerContainerCommands(program, cli);
  registerGenerateCommands(program, cli);
  registerTokenCommands(program, cli);
  registerHealthCommands(program, cli);
  registerEnvCommands(program, cli);
  registerGatewayCommands(program, cli);
  registerKeyCommands(program, cli);
  return program;
}

/** The deepest command the words name, for the help hint of a usage error (e.g. `container`). */
function commandPath(program: Command, argv: string[]): string {
  const path: string[] = [];
  let cmd = program;
  for (const word of argv) {
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) continue;
    path.push(next.name());
    cmd = next;
  }
  return ['comfy-panel', ...path].join(' ');
}

const printJsonError = (error: { message: string; fix?: string; code: string }) => process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);

export async function runCli(argv: string[]): Promise<number> {
  // Commands report a failed check through process.exitCode; start each run clean.
  process.exitCode = undefined;
  // Known before parsing, so that a usage error is printed as JSON too.
  const jsonRequested = argv.includes('--json');
  const program = buildProgram({ json: jsonRequested });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok;
      if (jsonRequested) printJsonError({ message: err.message.replace(/^error:\s*/, ''), fix: `See \`${commandPath(program, argv)} --help\`.`, code: 'usage' });
      return EXIT.usage;
    }
    const json = Boolean(program.opts().json) || jsonRequested;
    const code = err instanceof ConfigError ? EXIT.usage : EXIT.checkFailed;
    const message = redact(err instanceof Error ? err.message : String(err));
    const fix = err instanceof PanelError ? err.fix : undefined;
    if (json) printJsonError({ message, fix, code: err instanceof PanelError ? err.code : 'error' });
    else process.stderr.write(`comfy-panel: ${message}${fix ? `\n  fix: ${fix}` : ''}\n`);
    return code;
  }
}
