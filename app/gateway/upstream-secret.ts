/**
 * ComfyUI-Login's credential as the gateway holds it: line 1 of a mounted file in the
 * login/PASSWORD format (the bcrypt hash, which is also the API token). Reloaded when the
 * file changes; an empty or unreadable file keeps the last good value.
 *
 * A rotation writes the new hash before it restarts ComfyUI (which reads PASSWORD only at
 * start). With `accepts`, a new value is used only once ComfyUI accepts it: until the restart
 * every client (and the drain's own look at the queue) keeps working on the old one.
 */
import { fingerprint } from '../redact.js';
import { watchFile, type WatchedFile } from './file-watch.js';

export interface SecretStatus {
  /** Whether a credential is configured at all (no file: ComfyUI runs without the login node). */
  configured: boolean;
  loaded: boolean;
  /** fp:… of the hash: shows a rotation happened without showing the hash. */
  fingerprint?: string;
  loadedAt?: string;
  error?: string;
}

export class UpstreamSecret {
  private value: string | undefined;
  /** Read from the file, not accepted by ComfyUI yet. */
  private pending: string | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  private loadedAt: string | undefined;
  private error: string | undefined;
  private watcher: WatchedFile | undefined;

  constructor(
    private readonly file: string | undefined,
    /** Whether ComfyUI takes this hash now (GET /system_stats with it answers 200). */
    private readonly accepts?: (hash: string) => Promise<boolean>,
  ) {}

  async start(intervalMs = 250): Promise<void> {
    if (!this.file) return;
    const file = this.file;
    this.watcher = watchFile(file, intervalMs, (text, err) => {
      const line = text?.split('\n')[0]?.replace(/\r$/, '').trim();
      if (!line) {
        this.error = text === undefined ? `${file}: ${err?.code ?? 'unreadable'}` : `${file}: line 1 is empty`;
        return;
      }
      this.error = undefined;
      if (this.value === undefined || !this.accepts || line === this.value) {
        this.pending = undefined;
        this.use(line);
      } else this.pending = line;
    });
    await this.watcher.check();
    if (this.accepts) {
      const accepts = this.accepts;
      this.pendingTimer = setInterval(() => {
        const next = this.pending;
        if (next === undefined) return;
        void accepts(next).then(
          (ok) => {
            if (ok && this.pending === next) {
              this.pending = undefined;
              this.use(next);
            }
          },
          () => undefined, // ComfyUI not answering (restarting): ask again at the next tick
        );
      }, Math.max(intervalMs, 500));
      this.pendingTimer.unref();
    }
  }

  private use(line: string): void {
    this.value = line;
    this.loadedAt = new Date().toISOString();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.pendingTimer);
  }

  /** Every hash the gateway knows (in use and pending): what its logs must never show. */
  get known(): string[] {
    return [this.value, this.pending].filter((v): v is string => v !== undefined);
  }

  get configured(): boolean {
    return this.file !== undefined;
  }

  /** The hash, for the upstream Authorization header only. */
  get current(): string | undefined {
    return this.value;
  }

  status(): SecretStatus {
    return {
      configured: this.configured,
      loaded: this.value !== undefined,
      ...(this.value ? { fingerprint: fingerprint(this.value) } : {}),
      ...(this.loadedAt ? { loadedAt: this.loadedAt } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
