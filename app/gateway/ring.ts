/**
 * The gateway's in-memory view of the key store: keys by hash for the per-request check,
 * reloaded when the panel rewrites keys.json. A store that fails to parse keeps the last
 * good one in force (a bad write neither opens nor closes the door) and is reported.
 */
import { errorMessage } from '../errors.js';
import { watchFile, type WatchedFile } from './file-watch.js';
import { hashSecret, keyActive, looksLikeKey, looksLikeLink, parseKeyStore, storePath, type KeyRecord, type KeyStore, type LinkRecord } from './keys.js';

export interface RingStatus {
  /** Active keys (overlapping ones included). */
  keys: number;
  /** Increases with every successful load. */
  generation: number;
  loadedAt?: string;
  error?: string;
}

export class KeyRing {
  private byHash = new Map<string, KeyRecord>();
  private byId = new Map<string, KeyRecord>();
  private links = new Map<string, LinkRecord>();
  private generation = 0;
  private loadedAt: string | undefined;
  private error: string | undefined;
  private watcher: WatchedFile | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly stateDir: string) {}

  /** Loads now and then follows the file every `intervalMs`. */
  async start(intervalMs = 250): Promise<void> {
    const file = storePath(this.stateDir);
    this.watcher = watchFile(file, intervalMs, (text, err) => {
      if (text === undefined) {
        if (err?.code === 'ENOENT') this.apply({ version: 1, keys: [], links: [] });
        else this.error = `${file}: ${err?.code ?? 'unreadable'}; keeping the keys loaded before`;
        return;
      }
      try {
        this.apply(parseKeyStore(text, file));
      } catch (e) {
        this.error = `${errorMessage(e)}; keeping the keys loaded before`;
      }
    });
    await this.watcher.check();
  }

  /** Re-reads the file now (tests, and the control endpoint's status). */
  async refresh(): Promise<void> {
    await this.watcher?.check();
  }

  stop(): void {
    this.watcher?.close();
  }

  /** Called after every successful load: the proxy closes what the new store no longer allows. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private apply(store: KeyStore): void {
    this.byHash = new Map(store.keys.map((k) => [k.hash, k]));
    this.byId = new Map(store.keys.map((k) => [k.id, k]));
    this.links = new Map(store.links.map((l) => [l.hash, l]));
    this.generation++;
    this.loadedAt = new Date().toISOString();
    this.error = undefined;
    for (const fn of this.listeners) fn();
  }

  /** The active key this raw value is, or undefined. One SHA-256 and a map lookup. */
  verify(raw: string, now = Date.now()): KeyRecord | undefined {
    if (!looksLikeKey(raw)) return undefined;
    const k = this.byHash.get(hashSecret(raw));
    return k && keyActive(k, now) ? k : undefined;
  }

  /** The active key with this id (sessions and open sockets hold ids, never keys). */
  byKeyId(id: string, now = Date.now()): KeyRecord | undefined {
    const k = this.byId.get(id);
    return k && keyActive(k, now) ? k : undefined;
  }

  /** The link record a raw one-time link token stands for, if unexpired and its key active. */
  link(raw: string, now = Date.now()): LinkRecord | undefined {
    if (!looksLikeLink(raw)) return undefined;
    const l = this.links.get(hashSecret(raw));
    return l && Date.parse(l.expiresAt) > now && this.byKeyId(l.keyId, now) ? l : undefined;
  }

  /** Name of any key by id, active or not (for logs and usage). */
  nameOf(id: string): string | undefined {
    return this.byId.get(id)?.name;
  }

  status(now = Date.now()): RingStatus {
    let active = 0;
    for (const k of this.byId.values()) if (keyActive(k, now)) active++;
    return { keys: active, generation: this.generation, ...(this.loadedAt ? { loadedAt: this.loadedAt } : {}), ...(this.error ? { error: this.error } : {}) };
  }
}
