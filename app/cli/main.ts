import { Command, CommanderError } from 'commander';
import { PanelError, ConfigError } from '../errors.js';
import { redact } from '../redact.js';
import { appVersion } from '../version.js';
import { createCliContext, EXIT, type CliContext } from './context.js';

type Register = (program: Command, cli: CliContext) => void;

/**
 * Each group of commands, loaded only when its words are on the command line: `--version` loads
 * none, `container status` only the container commands (and Docker's client), so the CLI starts
 * fast (issue 15 item 7; the bundle is split per group, scripts/build.mjs). In the order of the help.
 */
const GROUPS: readonly { words: readonly string[]; load: () => Promise<Register> }[] = [
  { words: ['serve'], load: async () => (await import('./commands/serve.js')).registerServeCommand },
  { words: ['config'], load: async () => (await import('./commands/config.js')).registerConfigCommands },
  { words: ['setup'], load: async () => (await import('./commands/setup.js')).registerSetupCommands },
  { words: ['container'], load: async () => (await import('./commands/container.js')).registerContainerCommands },
  { words: ['generate', 'generate-history', 'comfy-status'], load: async () => (await import('./commands/generate.js')).registerGenerateCommands },
  { words: ['token'], load: async () => (await import('./commands/token.js')).registerTokenCommands },
  { words: ['health', 'probe'], load: async () => (await import('./commands/health.js')).registerHealthCommands },
  { words: ['env'], load: async () => (await import('./commands/env.js')).registerEnvCommands },
  { words: ['gateway'], load: async () => (await import('./commands/gateway.js')).registerGatewayCommands },
  { words: ['key'], load: async () => (await import('./commands/key.js')).registerKeyCommands },
];

/** The groups argv needs: the one its first command word names; every group for help, no command or an unknown one. */
function groupsFor(argv: readonly string[]): typeof GROUPS {
  const words = argv.filter((a) => !a.startsWith('-'));
  // `-c FILE` / `--config FILE` take a value that is not a command word.
  const valueOf = new Set(argv.flatMap((a, i) => ((a === '-c' || a === '--config') && argv[i + 1] ? [argv[i + 1]] : [])));
  const first = words.find((w) => !valueOf.has(w));
  if (first === undefined && argv.some((a) => a === '-V' || a === '--version') && !argv.some((a) => a === '-h' || a === '--help')) return [];
  const group = GROUPS.find((g) => first !== undefined && g.words.includes(first));
  return group && first !== 'help' ? [group] : GROUPS;
}

/**
 * Builds the command tree with the groups argv needs (default: all); exported so tests can run
 * commands in-process. With `json` commander's own error text stays off stderr: the caller prints
 * the error as JSON instead.
 */
export async function buildProgram(opts: { json?: boolean; argv?: readonly string[] } = {}): Promise<Command> {
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
  const groups = opts.argv ? groupsFor(opts.argv) : GROUPS;
  for (const register of await Promise.all(groups.map((g) => g.load()))) register(program, cli);
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
  const program = await buildProgram({ json: jsonRequested, argv });
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
