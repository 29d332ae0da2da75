import { promises as fs } from 'node:fs';

export interface FilesWatch {
  /** Looks now; resolves once any change seen has been reported. */
  check(): Promise<void>;
  close(): void;
}

const identity = async (file: string) => {
  const st = await fs.stat(file).catch((e: NodeJS.ErrnoException) => e);
  return st instanceof Error ? `missing:${st.code ?? ''}` : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
};

/**
 * Calls `onChange` with the files whose identity (inode, size, mtime, ctime) changed since the
 * last look, polled every `intervalMs`. Polling rather than fs.watch: an atomic replace (rename)
 * and a file on a bind mount or network share defeat inotify, and a few stats per interval cost
 * nothing. The first look only records the files as they are.
 */
export function watchFiles(files: readonly string[], intervalMs: number, onChange: (changed: string[]) => void): FilesWatch {
  let last: Map<string, string> | undefined;
  let running: Promise<void> | undefined;
  const look = async () => {
    const now = new Map(await Promise.all(files.map(async (f) => [f, await identity(f)] as const)));
    const changed = last ? files.filter((f) => last!.get(f) !== now.get(f)) : [];
    last = now;
    if (changed.length) onChange(changed);
  };
  // A listener that throws must not stop the polling.
  const check = () => (running ??= look().catch(() => undefined).finally(() => (running = undefined)));
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  void check();
  return { check, close: () => clearInterval(timer) };
}
