import { promises as fs, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

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
 * last look. Looks when their folders' inotify watch reports anything (a watch on the folder, not
 * the file, also sees an atomic replace by rename), and every `intervalMs` for what inotify does
 * not see (a bind mount written from the other side, a network share, a folder created later).
 * The poll is the slow path: a fleet of panels' instances polling fast costs real CPU. The first
 * look only records the files as they are.
 */
export function watchFiles(files: readonly string[], intervalMs: number, onChange: (changed: string[]) => void): FilesWatch {
  let last: Map<string, string> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const look = async () => {
    const now = new Map(await Promise.all(files.map(async (f) => [f, await identity(f)] as const)));
    const changed = last ? files.filter((f) => last!.get(f) !== now.get(f)) : [];
    last = now;
    if (changed.length) onChange(changed);
  };
  // A listener that throws must not stop the watch; an event during a look gets a look after it.
  const check = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = look()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          void check();
        }
      });
    return running;
  };
  const names = new Set(files.map((f) => path.basename(f)));
  const watchers = new Map<string, FSWatcher>();
  const watchFolders = () => {
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(String(name))) void check();
        });
        w.on('error', () => {
          w.close();
          watchers.delete(dir); // the folder went away: the poll finds it again
        });
        watchers.set(dir, w);
      } catch {
        // no such folder yet, or no inotify here: the poll covers it
      }
    }
  };
  watchFolders();
  const timer = setInterval(() => {
    watchFolders();
    void check();
  }, intervalMs);
  timer.unref();
  void check();
  return {
    check,
    close: () => {
      closed = true;
      clearInterval(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
