import type { LoadedConfig } from '../config/load.js';
import { panelPaths, type PanelPaths } from '../config/paths.js';
import { fingerprintKeyFile, redact, useFingerprintKey } from '../redact.js';

/** Exit codes of every command: 0 ok, 1 a check failed, 2 usage or config error. */
export const EXIT = { ok: 0, checkFailed: 1, usage: 2 } as const;

export interface CliGlobals {
  json?: boolean;
  config?: string;
  instance?: string;
  all?: boolean;
}

export interface CliContext {
  /** True when --json was given: print exactly one JSON document on stdout. */
  readonly json: boolean;
  /** --all: a staged rotation for `token rotate`; every other command is run once per instance by main.ts. */
  readonly all: boolean;
  /** The panel's own folders (the config file, the default instance's data, the logs). */
  readonly rootPaths: PanelPaths;
  /** The selected instance's folders (its vault, history, runs, journals); known once `config()` resolved. */
  readonly paths: PanelPaths;
  /** The whole config file named by --config, or the default one, loaded once. */
  wholeConfig(): Promise<LoadedConfig>;
  /** The instance --instance names (default: the first) seen as one deployment (config/instances.ts). */
  config(): Promise<LoadedConfig & { instance: string }>;
  /** Writes `next`, the selected instance's view changed by a command (setup), back into the config file. */
  saveInstanceConfig(next: unknown): Promise<LoadedConfig['config']>;
  /**
   * Prints a command's result: the JSON value under --json, else the human text.
   * Text passes through redact() as a last line of defence against secrets, except when the
   * operator asked to see them (`reveal`, from a command's --reveal).
   */
  print(result: { json: unknown; human: string | (() => string); reveal?: boolean }): void;
  /** Prints a progress line to stderr (human mode only). */
  progress(line: string): void;
}

/** Where a command's output goes: stdout, or (for --all) a collector that prints one document for all instances. */
export interface CliOutput {
  print(result: { json: unknown; human: string; reveal?: boolean }, json: boolean): void;
  progress(line: string): void;
}

const stdoutOutput: CliOutput = {
  print({ json: value, human, reveal }, json) {
    if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(`${reveal ? human : redact(human)}\n`);
  },
  progress: (line) => process.stderr.write(`${redact(line)}\n`),
};

/** `globals` is read when a command runs, after the global options were parsed. */
export function createCliContext(globals: () => CliGlobals, env = process.env, output: CliOutput = stdoutOutput): CliContext {
  const rootPaths = panelPaths(env);
  // Fingerprints printed here must match those the next command (or the UI) computes: the install's key.
  useFingerprintKey(fingerprintKeyFile(rootPaths.dataDir));
  let whole: Promise<LoadedConfig> | undefined;
  let selected: Promise<LoadedConfig & { instance: string }> | undefined;
  let paths: PanelPaths = rootPaths;
  // Loaded on first use (with the schema and zod), so commands that need no config start faster.
  const wholeConfig = () => (whole ??= import('../config/load.js').then(({ loadConfig }) => loadConfig(globals().config ?? rootPaths.configFile, Boolean(globals().config))));
  const config = () =>
    (selected ??= Promise.all([wholeConfig(), import('../config/instances.js')]).then(([loaded, { instanceConfig, instancePaths, listInstances }]) => {
      const instance = globals().instance ?? listInstances(loaded.config)[0]!.id;
      const view = { ...loaded, config: instanceConfig(loaded.config, instance), instance };
      paths = instancePaths(rootPaths, instance);
      return view;
    }));
  return {
    get json() {
      return Boolean(globals().json);
    },
    get all() {
      return Boolean(globals().all);
    },
    rootPaths,
    get paths() {
      return paths;
    },
    wholeConfig,
    config,
    async saveInstanceConfig(next) {
      const [{ instance, path: file }, loaded, { instanceConfig, withInstanceConfig }, { saveConfig }] = await Promise.all([config(), wholeConfig(), import('../config/instances.js'), import('../config/load.js')]);
      return instanceConfig(await saveConfig(file, withInstanceConfig(loaded.config, instance, next as LoadedConfig['config'])), instance);
    },
    print({ json: value, human, reveal }) {
      output.print({ json: value, human: typeof human === 'function' && !this.json ? human() : typeof human === 'string' ? human : '', ...(reveal ? { reveal } : {}) }, this.json);
    },
    progress(line) {
      if (!this.json) output.progress(line);
    },
  };
}
