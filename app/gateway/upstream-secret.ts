/**
 * ComfyUI-Login's credential as the gateway holds it: line 1 of a mounted file in the
 * login/PASSWORD format (the bcrypt hash, which is also the API token). Reloaded when the
 * file changes; an empty or unreadable file keeps the last good value.
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
  private loadedAt: string | undefined;
  private error: string | undefined;
  private watcher: WatchedFile | undefined;

  constructor(private readonly file: string | undefined) {}

  async start(intervalMs = 250): Promise<void> {
    if (!this.file) return;
    const file = this.file;
    this.watcher = watchFile(file, intervalMs, (text, err) => {
      const line = text?.split('\n')[0]?.replace(/\r$/, '').trim();
      if (!line) {
        this.error = text === undefined ? `${file}: ${err?.code ?? 'unreadable'}` : `${file}: line 1 is empty`;
        return;
      }
      this.value = line;
      this.loadedAt = new Date().toISOString();
      this.error = undefined;
    });
    await this.watcher.check();
  }

  stop(): void {
    this.watcher?.close();
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
