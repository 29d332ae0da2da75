import { Command, CommanderError } from 'commander';
import { PanelError, ConfigError } from '../errors.js';
import { redact } from '../redact.js';
import { appVersion } from '../version.js';
import { createCliContext, EXIT, type CliContext, type CliGlobals, type CliOutput } from './context.js';

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
  { words: ['fleet'], load: async () => (await import('./commands/fleet.js')).registerFleetCommands },
];

/** Global options that take a value (which is then no command word). */
const VALUED = new Set(['-c', '--config', '--instance']);

/** The command words of argv, in order (`token rotate`), without options and their values. */
function commandWords(argv: readonly string[]): string[] {
  return argv.filter((a, i) => !a.startsWith('-') && !VALUED.has(argv[i - 1] ?? ''));
}

/** The groups argv needs: the one its first command word names; every group for help, no command or an unknown one. */
function groupsFor(argv: readonly string[]): typeof GROUPS {
  const first = commandWords(argv)[0];
  if (first === undefined && argv.some((a) => a === '-V' || a === '--version') && !argv.some((a) => a === '-h' || a === '--help')) return [];
  const group = GROUPS.find((g) => first !== undefined && g.words.includes(first));
  return group && first !== 'help' ? [group] : GROUPS;
}

/**
 * Builds the command tree with the groups argv needs (default: all); exported so tests can run
 * commands in-process. With `json` commander's own error text stays off stderr: the caller prints
 * the error as JSON instead.
 */
export async function buildProgram(opts: { json?: boolean; argv?: readonly string[]; instance?: string; output?: CliOutput } = {}): Promise<Command> {
  const program = new Command('comfy-panel')
    .description('Control panel for a ComfyUI Docker container protected by ComfyUI-Login')
    .version(appVersion, '-V, --version')
    .option('-c, --config <file>', 'config file (default: the user config folder, see `comfy-panel config path`)')
    .option('--json', 'print one machine-readable JSON document on stdout')
    .option('--instance <id>', 'the instance of the fleet to act on (default: the first in the config)')
    .option('--all', 'run the command for every instance (with --json: {"instances": [{"id", ...its fields, "error"?}]}); `token rotate --all` rotates them in stages')
    .exitOverride();
  // Set before the subcommands are added: they inherit it.
  if (opts.json) program.configureOutput({ outputError: () => undefined });
  else program.showHelpAfterError();
  // One run of an --all fan-out is bound to its instance.
  const cli: CliContext = createCliContext(() => ({ ...program.opts<CliGlobals>(), ...(opts.instance ? { instance: opts.instance, all: false } : {}) }), process.env, opts.output);
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

/** How a command that threw ends: its exit code and the error as --json prints it. */
function failure(err: unknown, program: Command, argv: string[]): { code: number; error?: { message: string; fix?: string; code: string } } {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return { code: EXIT.ok };
    return { code: EXIT.usage, error: { message: err.message.replace(/^error:\s*/, ''), fix: `See \`${commandPath(program, argv)} --help\`.`, code: 'usage' } };
  }
  const message = redact(err instanceof Error ? err.message : String(err));
  return {
    code: err instanceof ConfigError ? EXIT.usage : EXIT.checkFailed,
    error: { message, ...(err instanceof PanelError && err.fix ? { fix: err.fix } : {}), code: err instanceof PanelError ? err.code : 'error' },
  };
}

function printError(error: { message: string; fix?: string; code: string }, json: boolean, prefix = ''): void {
  if (json) printJsonError(error);
  else process.stderr.write(`comfy-panel: ${prefix}${error.message}${error.fix ? `\n  fix: ${error.fix}` : ''}\n`);
}

/**
 * `--all`: the command once per instance, all at once (an engine that does not answer delays
 * only its own row), printed as one document: `{"instances": [{"id", ...fields, "error"?}]}`.
 */
async function runForAll(argv: string[], json: boolean): Promise<number> {
  const rest = argv.filter((a) => a !== '--all');
  const program = await buildProgram({ json, argv: rest });
  if (rest.some((a) => a === '--instance' || a.startsWith('--instance='))) {
    printError({ message: '--all and --instance exclude each other', fix: 'Give one of them.', code: 'usage' }, json);
    return EXIT.usage;
  }
  // One document at the end cannot carry what never ends.
  if (commandWords(rest)[0] === 'serve' || rest.some((a) => ['--watch', '-f', '--follow'].includes(a))) {
    printError({ message: '--all does not apply to a command that keeps running (serve, --watch, --follow)', fix: 'Run it per instance with --instance ID.', code: 'usage' }, json);
    return EXIT.usage;
  }
  const configAt = rest.findIndex((a) => a === '-c' || a === '--config');
  const probe = createCliContext(() => (configAt >= 0 && rest[configAt + 1] ? { config: rest[configAt + 1] } : {}));
  let instances: { id: string; label: string }[];
  try {
    const { listInstances } = await import('../config/instances.js');
    instances = listInstances((await probe.wholeConfig()).config);
  } catch (err) {
    const f = failure(err, program, rest);
    if (f.error) printError(f.error, json);
    return f.code;
  }
  const rows = await Promise.all(
    instances.map(async ({ id, label }) => {
      let value: unknown;
      const human: string[] = [];
      const output: CliOutput = {
        print: (r) => {
          value = r.json;
          human.push(r.reveal ? r.human : redact(r.human));
        },
        progress: (line) => process.stderr.write(`${redact(`[${id}] ${line}`)}\n`),
      };
      // Commander's own error text stays quiet here: a usage error is said once below.
      const one = await buildProgram({ json: true, argv: rest, instance: id, output });
      try {
        await one.parseAsync(rest, { from: 'user' });
        return { id, label, value, human, code: EXIT.ok };
      } catch (err) {
        const f = failure(err, one, rest);
        return { id, label, value, human, code: f.code, ...(f.error ? { error: f.error } : {}) };
      }
    }),
  );
  // A usage error is the same for every instance: said once.
  const usage = rows.find((r) => r.error?.code === 'usage');
  if (usage?.error) {
    printError(usage.error, json);
    return EXIT.usage;
  }
  if (json) {
    // The instance's id names the row: a command's own `id` (a container's, say) becomes `<command>Id`.
    const own = `${commandWords(rest)[0] ?? 'result'}Id`;
    const fields = (v: unknown): object => {
      if (v === undefined) return {};
      if (!v || typeof v !== 'object' || Array.isArray(v)) return { result: v };
      const { id, ...others } = v as Record<string, unknown>;
      return id === undefined ? others : { ...others, [own]: id };
    };
    process.stdout.write(`${JSON.stringify({ instances: rows.map((r) => ({ id: r.id, ...fields(r.value), ...(r.error ? { error: r.error } : {}) })) }, null, 2)}\n`);
  } else {
    for (const r of rows) {
      process.stdout.write(`== ${r.label}${r.label === r.id ? '' : ` (${r.id})`} ==\n${r.human.join('\n')}${r.human.length ? '\n' : ''}`);
      if (r.error) printError(r.error, false, `[${r.id}] `);
    }
  }
  const codes = [...rows.map((r) => r.code), typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok];
  return Math.max(...codes);
}

export async function runCli(argv: string[]): Promise<number> {
  // Commands report a failed check through process.exitCode; start each run clean.
  process.exitCode = undefined;
  // Known before parsing, so that a usage error is printed as JSON too.
  const jsonRequested = argv.includes('--json');
  const words = commandWords(argv);
  // `token rotate --all` is one staged rotation, every other --all a fan-out.
  if (argv.includes('--all') && !(words[0] === 'token' && words[1] === 'rotate')) return runForAll(argv, jsonRequested);
  const program = await buildProgram({ json: jsonRequested, argv });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    const f = failure(err, program, argv);
    const json = Boolean(program.opts().json) || jsonRequested;
    // Without --json commander has already printed its usage error, with the help after it.
    if (f.error && (json || !(err instanceof CommanderError))) printError(f.error, json);
    return f.code;
  }
}
