import type { ArchiveFile } from './archive.js';
import { LoginNodeRuns } from './login-node.js';

/** Docker's stat of a path in a container: the X-Docker-Container-Path-Stat header of a HEAD on its archive. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget?: string;
}

/** A stat with the engine's clock (the answer's Date header) when it was taken. */
export interface StatAt {
  stat: PathStat;
  /** ms since the epoch, by the engine's clock; NaN when the answer had no Date. */
  engineNow: number;
}

/**
 * A file whose mtime is this close to the moment it was stat'ed may still be written again
 * within the same second with the same size, mode and (whole-second, as a tar header sets it)
 * mtime, so its stat cannot vouch for its content (git's "racy" index entries, the same cure).
 */
export const RACY_MS = 2_000;

const statKey = (s: PathStat) => JSON.stringify([s.name, s.size, s.mode, s.mtime, s.linkTarget ?? '']);

/**
 * Files read from containers, each with the stat it had before it was read. Reading a file
 * through the archive API costs the engine a helper process and a mount (about 300 ms of CPU
 * on Docker 20.10, per file, per instance, per sweep), while the stat is one cheap HEAD: a
 * file whose stat is unchanged is not read again. Memory only: a PASSWORD held here is the
 * vault's token, never written anywhere.
 */
export class ContainerFileReads {
  private readonly files = new Map<string, { stat: string; file: ArchiveFile }>();

  private static key(container: string, file: string): string {
    return `${container}\0${file}`;
  }

  /** The file as last read, if its stat is still the one it was read with. */
  get(container: string, file: string, now: PathStat): ArchiveFile | undefined {
    const kept = this.files.get(ContainerFileReads.key(container, file));
    return kept && kept.stat === statKey(now) ? kept.file : undefined;
  }

  /** Keeps a read made after `before`; a racy stat is not kept (the next read asks the engine again). */
  remember(container: string, file: string, before: StatAt, read: ArchiveFile): void {
    const key = ContainerFileReads.key(container, file);
    const mtime = Date.parse(before.stat.mtime);
    if (!(mtime <= before.engineNow - RACY_MS)) {
      this.files.delete(key);
      return;
    }
    this.files.set(key, { stat: statKey(before.stat), file: read });
  }

  /** The panel wrote it: the next read goes to the engine. */
  forget(container: string, file: string): void {
    this.files.delete(ContainerFileReads.key(container, file));
  }
}

/**
 * What a runtime learns about its containers and keeps between calls: ComfyUI-Login's facts
 * per container run, and file reads by their stat. One per runtime (PanelContext), shared by
 * the sweeps and the container view; a manager made without one keeps its own.
 */
export class ContainerMemory {
  readonly loginNode = new LoginNodeRuns();
  readonly files = new ContainerFileReads();
}
