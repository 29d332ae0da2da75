import { watchFile } from '../gateway/file-watch.js';
import { errorMessage } from '../errors.js';
import { configDiff } from './diff.js';
import { parseConfigText, type LoadedConfig } from './load.js';

export interface ConfigWatchOptions {
  file: string;
  /** The config in use now: a file that says the same (our own save) is no change. */
  current: () => LoadedConfig;
  /** A valid new config: the fields that changed. */
  onReload: (next: LoadedConfig, changed: string[]) => void;
  /** The file changed but is not a valid config: the old one stays in use. */
  onInvalid: (message: string) => void;
  /** Default 250 ms: a change made by hand or by the CLI is picked up well within 2 s. */
  intervalMs?: number;
}

/**
 * Watches the config file (by polling its identity: an editor's or our own atomic replace defeats
 * inotify on the file) and reloads it when someone else changed it. Returns the stop function.
 */
export function watchConfig(opts: ConfigWatchOptions): () => void {
  let first = true;
  const watched = watchFile(opts.file, opts.intervalMs ?? 250, (text) => {
    // The first look only learns the file's identity.
    if (first) {
      first = false;
      return;
    }
    // Removed or unreadable: keep what is loaded (a rename-in-progress also looks like this).
    if (text === undefined) return;
    try {
      const config = parseConfigText(text, opts.file);
      const changed = configDiff(opts.current().config, config).map((c) => c.field);
      if (changed.length === 0 && opts.current().configured) return;
      opts.onReload({ config, path: opts.file, configured: true }, changed);
    } catch (e) {
      opts.onInvalid(errorMessage(e));
    }
  });
  void watched.check();
  return () => watched.close();
}
