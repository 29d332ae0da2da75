import type { LogLine } from '../../../app/contract/index.js';

/**
 * Container log lines kept in the renderer: a bounded ring (old lines fall off) with
 * subscribers notified at most once per animation frame, so a burst of thousands of lines
 * costs one render, not thousands.
 */
export class LogStore {
  private buf: LogLine[] = [];
  private start = 0;
  private version = 0;
  private snapshot: { version: number; lines: LogLine[] } = { version: 0, lines: [] };
  private listeners = new Set<() => void>();
  private scheduled = false;

  constructor(
    readonly capacity = 10_000,
    private readonly schedule: (fn: () => void) => void = (fn) => requestAnimationFrame(fn),
  ) {}

  append(lines: readonly LogLine[]): void {
    for (const line of lines) {
      if (this.buf.length < this.capacity) this.buf.push(line);
      else {
        this.buf[this.start] = line;
        this.start = (this.start + 1) % this.capacity;
      }
    }
    this.version++;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        this.listeners.forEach((l) => l());
      });
    }
  }

  clear(): void {
    this.buf = [];
    this.start = 0;
    this.version++;
    this.listeners.forEach((l) => l());
  }

  get size(): number {
    return this.buf.length;
  }

  /** Lines oldest first; the same array until something changes (for useSyncExternalStore). */
  lines = (): LogLine[] => {
    if (this.snapshot.version !== this.version) {
      this.snapshot = { version: this.version, lines: [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)] };
    }
    return this.snapshot.lines;
  };

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };
}
