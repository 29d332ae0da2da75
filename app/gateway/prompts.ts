/**
 * Prompts the gateway let through, by key: attributed at POST /prompt, followed on ComfyUI's
 * /queue until they leave it, then timed from /history (execution_start to the end message).
 * Gives the per-key queue limit its count, interrupts their owner, and drain its "done".
 */
export interface Outstanding {
  key: string;
  name: string;
  submittedAt: number;
}

export interface QueueSnapshot {
  running: string[];
  pending: string[];
}

type Message = [string, { timestamp?: number; prompt_id?: string }];

/** Seconds from execution_start to execution_success/error/interrupted, from a /history entry. */
export function executionSeconds(entry: unknown): { seconds: number; status: string } {
  const status = (entry as { status?: { status_str?: string; messages?: Message[] } } | undefined)?.status;
  const messages = Array.isArray(status?.messages) ? status.messages : [];
  const at = (type: string) => messages.find((m) => Array.isArray(m) && m[0] === type)?.[1]?.timestamp;
  const start = at('execution_start');
  const end = at('execution_success') ?? at('execution_error') ?? at('execution_interrupted');
  const seconds = typeof start === 'number' && typeof end === 'number' && end >= start ? (end - start) / 1000 : 0;
  return { seconds, status: status?.status_str ?? 'unknown' };
}

function ids(list: unknown): string[] {
  return Array.isArray(list) ? list.map((item: unknown): unknown => (Array.isArray(item) ? (item as unknown[])[1] : undefined)).filter((id): id is string => typeof id === 'string') : [];
}

export class PromptTracker {
  private readonly outstanding = new Map<string, Outstanding>();
  /** POST /prompt requests under way per key: counted against the limit before ComfyUI answers. */
  private readonly reserved = new Map<string, number>();
  private lastQueue: QueueSnapshot = { running: [], pending: [] };
  private missing = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private upstreamError: string | undefined;

  constructor(
    private readonly fetchJson: (path: string) => Promise<unknown>,
    private readonly finished: (promptId: string, o: Outstanding, seconds: number, status: string) => void,
    /** Whether to keep looking with nothing outstanding (while draining). */
    private readonly watching: () => boolean,
    private readonly pollMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.outstanding.size || this.watching()) void this.poll();
    }, this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Queued or running prompts of a key, plus its submissions under way. */
  count(key: string): number {
    let n = this.reserved.get(key) ?? 0;
    for (const o of this.outstanding.values()) if (o.key === key) n++;
    return n;
  }

  reserve(key: string): () => void {
    this.reserved.set(key, (this.reserved.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.reserved.get(key) ?? 1) - 1;
      if (n > 0) this.reserved.set(key, n);
      else this.reserved.delete(key);
    };
  }

  add(promptId: string, o: Outstanding): void {
    this.outstanding.set(promptId, o);
  }

  owner(promptId: string): string | undefined {
    return this.outstanding.get(promptId)?.key;
  }

  get size(): number {
    return this.outstanding.size;
  }

  queue(): QueueSnapshot {
    return this.lastQueue;
  }

  get error(): string | undefined {
    return this.upstreamError;
  }

  /** One look at ComfyUI's queue now (also what the interrupt check and drain use). */
  poll(): Promise<void> {
    return (this.polling ??= this.look().finally(() => (this.polling = undefined)));
  }

  private async look(): Promise<void> {
    let q: { queue_running?: unknown; queue_pending?: unknown };
    try {
      q = (await this.fetchJson('/queue')) as typeof q;
      this.upstreamError = undefined;
    } catch (e) {
      this.upstreamError = (e as Error).message;
      return;
    }
    this.lastQueue = { running: ids(q.queue_running), pending: ids(q.queue_pending) };
    const inQueue = new Set([...this.lastQueue.running, ...this.lastQueue.pending]);
    for (const [id, o] of [...this.outstanding]) {
      if (inQueue.has(id)) continue;
      let entry: unknown;
      try {
        entry = ((await this.fetchJson(`/history/${encodeURIComponent(id)}`)) as Record<string, unknown>)[id];
      } catch {
        continue; // ComfyUI went away: look again next time
      }
      if (entry === undefined) {
        // Deleted from the queue, or between the queue and history: give it two looks.
        const seen = (this.missing.get(id) ?? 0) + 1;
        this.missing.set(id, seen);
        if (seen < 3) continue;
      }
      this.missing.delete(id);
      this.outstanding.delete(id);
      const { seconds, status } = entry === undefined ? { seconds: 0, status: 'unknown' } : executionSeconds(entry);
      this.finished(id, o, seconds, status);
    }
  }
}
