/**
 * Usage per key, as JSONL in `<stateDir>/usage/usage-YYYY-MM-DD.jsonl` (no secrets: key ids,
 * names, addresses, prompt ids, counts). The gateway buffers request counts and writes one
 * `requests` line per key and address every flush; prompts and executions are one line each.
 * `usage(stateDir)` adds the lines up for `key usage`.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stateOf, type StateLocation } from './state.js';

export const USAGE_DIR = 'usage';
/** One file per day in USAGE_DIR. */
export const USAGE_FILE = /^usage-\d{4}-\d{2}-\d{2}\.jsonl$/;

export type UsageLine =
  | { t: string; type: 'requests'; key: string; name: string; address: string; count: number; lastAt: string }
  | { t: string; type: 'prompt'; key: string; name: string; address: string; promptId: string }
  | { t: string; type: 'execution'; key: string; name: string; promptId: string; seconds: number; status: string };

interface Pending {
  key: string;
  name: string;
  address: string;
  count: number;
  lastAt: number;
}

/** The gateway's writer: counts in memory, appended every `flushMs` and on close. */
export class UsageRecorder {
  private pending = new Map<string, Pending>();
  private lines: UsageLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    private readonly onError: (message: string) => void,
    flushMs = 2000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  request(key: string, name: string, address: string, now = Date.now()): void {
    const id = `${key}\u0000${address}`;
    const p = this.pending.get(id);
    if (p) {
      p.count++;
      p.lastAt = now;
    } else this.pending.set(id, { key, name, address, count: 1, lastAt: now });
  }

  prompt(key: string, name: string, address: string, promptId: string): void {
    this.lines.push({ t: new Date().toISOString(), type: 'prompt', key, name, address, promptId });
  }

  execution(key: string, name: string, promptId: string, seconds: number, status: string): void {
    this.lines.push({ t: new Date().toISOString(), type: 'execution', key, name, promptId, seconds, status });
  }

  /** Appends what is buffered; one write at a time, in order. */
  flush(): Promise<void> {
    const now = new Date();
    const batch: UsageLine[] = [...this.pending.values()].map((p) => ({ t: now.toISOString(), type: 'requests', key: p.key, name: p.name, address: p.address, count: p.count, lastAt: new Date(p.lastAt).toISOString() }));
    batch.push(...this.lines);
    this.pending = new Map();
    this.lines = [];
    if (!batch.length) return this.writing;
    const dir = path.join(this.stateDir, USAGE_DIR);
    const file = path.join(dir, `usage-${now.toISOString().slice(0, 10)}.jsonl`);
    this.writing = this.writing.then(async () => {
      try {
        await fs.mkdir(dir, { recursive: true });
        await fs.appendFile(file, batch.map((l) => JSON.stringify(l)).join('\n') + '\n', { mode: 0o644 });
      } catch (e) {
        this.onError(`usage log ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

export interface AddressUsage {
  address: string;
  requests: number;
  lastUsedAt: string;
}

export interface KeyUsage {
  /** Key id; a rotated key and its successor are two entries with one name. */
  key: string;
  name: string;
  requests: number;
  prompts: number;
  executionSeconds: number;
  lastUsedAt?: string;
  lastAddress?: string;
  /** Every address seen, newest first: who still uses an old key during a rotation. */
  addresses: AddressUsage[];
}

async function lines(file: string, each: (l: UsageLine) => void): Promise<void> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of rl) {
    if (!text.trim()) continue;
    try {
      each(JSON.parse(text) as UsageLine);
    } catch {
      // A line cut short by a crash mid-append: the rest of the log still counts.
    }
  }
}

/** Adds up the gateway's usage log (optionally only lines at or after `since`). */
export async function usage(location: StateLocation, opts: { since?: Date } = {}): Promise<KeyUsage[]> {
  const state = stateOf(location);
  await state.refresh?.();
  const dir = path.join(state.dir, USAGE_DIR);
  const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => USAGE_FILE.test(f)).sort();
  const since = opts.since?.getTime() ?? 0;
  const byKey = new Map<string, KeyUsage & { byAddress: Map<string, AddressUsage> }>();
  const entry = (key: string, name: string) => {
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { key, name, requests: 0, prompts: 0, executionSeconds: 0, addresses: [], byAddress: new Map() }));
    return e;
  };
  for (const f of files) {
    await lines(path.join(dir, f), (l) => {
      if (Date.parse(l.t) < since) return;
      const e = entry(l.key, l.name);
      if (l.type === 'requests') {
        e.requests += l.count;
        const a = e.byAddress.get(l.address) ?? { address: l.address, requests: 0, lastUsedAt: l.lastAt };
        a.requests += l.count;
        if (l.lastAt >= a.lastUsedAt) a.lastUsedAt = l.lastAt;
        e.byAddress.set(l.address, a);
        if (!e.lastUsedAt || l.lastAt >= e.lastUsedAt) {
          e.lastUsedAt = l.lastAt;
          e.lastAddress = l.address;
        }
      } else if (l.type === 'prompt') e.prompts++;
      else e.executionSeconds += l.seconds;
    });
  }
  return [...byKey.values()].map(({ byAddress, ...e }) => ({ ...e, executionSeconds: Math.round(e.executionSeconds * 1000) / 1000, addresses: [...byAddress.values()].sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt)) }));
}
