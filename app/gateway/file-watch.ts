import { promises as fs } from 'node:fs';

export interface WatchedFile {
  /** Reads now and calls onChange if the file differs from the last look. */
  check(): Promise<void>;
  close(): void;
}

/**
 * Polls a file's identity (inode, size, mtime, ctime) and calls `onChange` with its text
 * (undefined when it is missing or unreadable) whenever it changes. Polling, not fs.watch:
 * an atomic replace (rename) and a bind mount from the host both defeat inotify on the file,
 * and a stat every 250 ms costs nothing while keeping reloads well inside one second.
 */
export function watchFile(file: string, intervalMs: number, onChange: (text: string | undefined, error?: NodeJS.ErrnoException) => void): WatchedFile {
  let last = '';
  let running: Promise<void> | undefined;
  const look = async () => {
    const st = await fs.stat(file).catch((e: NodeJS.ErrnoException) => e);
    const id = st instanceof Error ? `error:${st.code ?? ''}` : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    if (id === last) return;
    last = id;
    if (st instanceof Error) return onChange(undefined, st);
    const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => e);
    if (text instanceof Error) {
      last = `error:${text.code ?? ''}`;
      return onChange(undefined, text);
    }
    onChange(text);
  };
  const check = () => (running ??= look().finally(() => (running = undefined)));
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}
