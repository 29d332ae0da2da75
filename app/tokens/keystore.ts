import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PanelError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';

export const KEY_BYTES = 32;

export interface KeyStoreInfo {
  /** e.g. "key-file", or Electron's safeStorage backend: "gnome_libsecret", "kwallet5", "basic_text", "dpapi", "keychain". */
  backend: string;
  /** False when the key is protected by nothing better than file permissions or a hard-coded password. */
  secure: boolean;
  warning?: string;
}

/**
 * Where the vault's AES-256 key lives. CLI and browser mode use a 0600 key file beside
 * the vault; the Electron main process injects one backed by safeStorage (wrappedKeyStore).
 */
export interface SecretKeyStore {
  info(): Promise<KeyStoreInfo>;
  /** The 32-byte key; created when missing and `create` is set, else undefined when missing. */
  getKey(opts: { create: boolean }): Promise<Buffer | undefined>;
}

/** Short id of a key, stored in the vault so a wrong key is told apart from a tampered file. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('comfy-panel-vault-key').update(key).digest('hex').slice(0, 16);
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  return fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new PanelError(`${file}: cannot read the vault key (${e.code ?? e.message})`, 'vault-key', 'Check the file permissions.');
  });
}

/** Persists a (possibly wrapped) key blob; created once with 0600, never overwritten. */
async function keyBlob(file: string, create: boolean, make: () => Promise<Buffer>): Promise<Buffer | undefined> {
  const existing = await readIfExists(file);
  if (existing || !create) return existing;
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, await make(), { mode: 0o600, backup: false });
  return fs.readFile(file);
}

/** Key in a 0600 file (base64). Protects against other users, not against this one. */
export function fileKeyStore(file: string): SecretKeyStore {
  return {
    info: async () => ({ backend: 'key-file', secure: false, warning: `the vault key is protected by file permissions only (${file})` }),
    async getKey({ create }) {
      const blob = await keyBlob(file, create, async () => Buffer.from(randomBytes(KEY_BYTES).toString('base64')));
      if (!blob) return undefined;
      const mode = (await fs.stat(file)).mode & 0o777;
      if (mode & 0o077) throw new PanelError(`${file}: vault key file is readable by others (mode ${mode.toString(8)})`, 'vault-key', `Run: chmod 600 '${file}'`);
      const key = Buffer.from(blob.toString('utf8').trim(), 'base64');
      if (key.length !== KEY_BYTES) throw new PanelError(`${file}: not a vault key (expected ${KEY_BYTES} bytes base64)`, 'vault-key', 'Restore the key file from a backup; without it the vault cannot be opened.');
      return key;
    },
  };
}

/** What the Electron main process provides around safeStorage (its async API). */
export interface KeyWrapper {
  /** safeStorage's selected storage backend, e.g. "gnome_libsecret" or "basic_text". */
  backend(): Promise<string>;
  encrypt(plain: Buffer): Promise<Buffer>;
  decrypt(wrapped: Buffer): Promise<Buffer>;
}

/**
 * A random key stored wrapped by the OS keychain (Electron safeStorage). On Linux,
 * safeStorage falls back to "basic_text" (a hard-coded password) when no keyring is
 * running: refused unless `allowInsecure`, then reported as not secure.
 */
export function wrappedKeyStore(file: string, wrapper: KeyWrapper, opts: { allowInsecure?: boolean } = {}): SecretKeyStore {
  return {
    async info() {
      const backend = await wrapper.backend();
      if (backend === 'unavailable') return { backend, secure: false, warning: 'OS encryption (safeStorage) is not available' };
      if (backend !== 'basic_text') return { backend, secure: true };
      return { backend, secure: false, warning: 'no OS keyring available: safeStorage uses basic_text, a hard-coded key' };
    },
    async getKey({ create }) {
      const backend = await wrapper.backend();
      if (backend === 'unavailable') {
        throw new PanelError('OS encryption (safeStorage) is not available: cannot unwrap the vault key', 'vault-key', 'Start the OS keyring, or use the key-file store (CLI / browser mode).');
      }
      if (backend === 'basic_text' && !opts.allowInsecure) {
        throw new PanelError('safeStorage has no OS keyring (backend basic_text): refusing to protect the vault with a hard-coded key', 'vault-key', 'Start a keyring (gnome-keyring or kwallet), or use the key-file store explicitly.');
      }
      const blob = await keyBlob(file, create, () => wrapper.encrypt(randomBytes(KEY_BYTES)));
      if (!blob) return undefined;
      const key = await wrapper.decrypt(blob).catch((e: unknown) => {
        throw new PanelError(`${file}: the OS keyring could not unwrap the vault key`, 'vault-key', 'Unlock the keyring of the user who created the vault.', { cause: e });
      });
      if (key.length !== KEY_BYTES) throw new PanelError(`${file}: unwrapped vault key has the wrong length`, 'vault-key', 'Restore the key file from a backup.');
      return key;
    },
  };
}
