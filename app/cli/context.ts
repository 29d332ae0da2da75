import { loadConfig, type LoadedConfig } from '../config/load.js';
import { panelPaths, type PanelPaths } from '../config/paths.js';
import { fingerprintKeyFile, redact, useFingerprintKey } from '../redact.js';

/** Exit codes of every command: 0 ok, 1 a check failed, 2 usage or config error. */
export const EXIT = { ok: 0, checkFailed: 1, usage: 2 } as const;

export interface CliContext {
  /** True when --json was given: print exactly one JSON document on stdout. */
  readonly json: boolean;
  readonly paths: PanelPaths;
  /** Loads (once) the config named by --config, or the default one. */
  config(): Promise<LoadedConfig>;
  /**
   * Prints a command's result: the JSON value under --json, else the human text.
   * Text passes through redact() as a last line of defence against secrets, except when the
   * operator asked to see them (`reveal`, from a command's --reveal).
   */
  print(result: { json: unknown; human: string | (() => string); reveal?: boolean }): void;
  /** Prints a progress line to stderr (human mode only). */
  progress(line: string): void;
}

/** `globals` is read when a command runs, after the global options were parsed. */
export function createCliContext(globals: () => { json?: boolean; config?: string }, env = process.env): CliContext {
  const paths = panelPaths(env);
  // Fingerprints printed here must match those the next command (or the UI) computes: the install's key.
  useFingerprintKey(fingerprintKeyFile(paths.dataDir));
  let loaded: Promise<LoadedConfig> | undefined;
  return {
    get json() {
      return Boolean(globals().json);
    },
    paths,
    config: () => (loaded ??= loadConfig(globals().config ?? paths.configFile, Boolean(globals().config))),
    print({ json: value, human, reveal }) {
      if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else {
        const text = typeof human === 'function' ? human() : human;
        process.stdout.write(`${reveal ? text : redact(text)}\n`);
      }
    },
    progress(line) {
      if (!this.json) process.stderr.write(`${redact(line)}\n`);
    },
  };
}
