import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import { PanelError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Credential } from './credential.js';
import { fileKeyStore, keyId, type KeyStoreInfo, type SecretKeyStore } from './keystore.js';

/**
 * The single source of truth for the ComfyUI credential: the current and the previous
 * one, encrypted at rest with AES-256-GCM. Everything else (PASSWORD, .env files) is a
 * copy the audit compares against this.
 */
export interface VaultState {
  current: Credential;
  previous?: Credential;
}

export const CredentialSchema = z.object({
  hash: z.string().min(1),
  username: z.string(),
  password: z.string().optional(),
  createdAt: z.string(),
});
const VaultStateSchema = z.object({ current: CredentialSchema, previous: CredentialSchema.optional() });

/** An encrypted blob as stored on disk; `purpose` is bound as associated data. */
export const SealedSchema = z.object({
  alg: z.literal('aes-256-gcm'),
  keyId: z.string(),
  iv: z.string(),
  tag: z.string(),
  data: z.string(),
});
export type Sealed = z.infer<typeof SealedSchema>;

const VaultFileSchema = z.object({ format: z.literal('comfy-panel-vault'), version: z.literal(1), backend: z.string(), sealed: SealedSchema });

export const VAULT_FILE = 'credential.vault.json';
export const KEY_FILE = 'vault.key';

/**
 * How a vault's key is kept, given its folder. Chosen by the host and carried by its runtime
 * (PanelContext.vaultKeys): the 0600 key file (CLI, browser mode), safeStorage in Electron.
 */
export type VaultKeys = (vaultDir: string) => SecretKeyStore;

/** The 0600 key file beside the vault. */
export const fileVaultKeys: VaultKeys = (dir) => fileKeyStore(path.join(dir, KEY_FILE));

export function vaultDir(config: PanelConfig, paths: PanelPaths): string {
  return config.vault.dir ?? path.join(paths.dataDir, 'vault');
}

export class Vault {
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly keys: SecretKeyStore = fileVaultKeys(dir),
  ) {
    this.file = path.join(dir, VAULT_FILE);
  }

  private async key(create: boolean, where: string): Promise<Buffer> {
    const key = await this.keys.getKey({ create });
    if (!key) throw new PanelError(`${where}: the vault key is missing`, 'vault-key', 'Restore the key file (vault.key) from a backup, or start over with `comfy-panel token init --force`.');
    return key;
  }

  async seal(value: unknown, purpose: string): Promise<Sealed> {
    const key = await this.key(true, this.dir);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`comfy-panel:${purpose}`));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { alg: 'aes-256-gcm', keyId: keyId(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** Decrypts and parses; `where` names the file in errors. Wrong key and tampering are told apart. */
  async open<T>(sealed: Sealed, purpose: string, schema: z.ZodType<T>, where: string): Promise<T> {
    const key = await this.key(false, where);
    if (keyId(key) !== sealed.keyId) {
      throw new PanelError(`${where}: encrypted with a different key than the vault key found now`, 'vault-wrong-key', 'Use the key the vault was created with (restore vault.key), or re-create the credential with `comfy-panel token init --force`.');
    }
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(`comfy-panel:${purpose}`));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new PanelError(`${where}: integrity check failed: the file was altered or damaged`, 'vault-tampered', 'Restore it from the newest .bak beside it.');
    }
    const parsed = schema.safeParse(JSON.parse(plain));
    if (!parsed.success) throw new PanelError(`${where}: decrypted content has an unexpected shape`, 'vault-corrupt', 'Restore it from the newest .bak beside it.');
    return parsed.data;
  }

  keyInfo(): Promise<KeyStoreInfo> {
    return this.keys.info();
  }

  async read(): Promise<VaultState | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      throw new PanelError(`${this.file}: cannot read the vault (${code ?? 'error'})`, 'vault-unreadable', 'Check the file permissions.');
    }
    let envelope: z.infer<typeof VaultFileSchema>;
    try {
      envelope = VaultFileSchema.parse(JSON.parse(text));
    } catch {
      throw new PanelError(`${this.file}: not a comfy-panel vault file (damaged or replaced)`, 'vault-corrupt', 'Restore it from the newest .bak beside it.');
    }
    return this.open(envelope.sealed, 'vault', VaultStateSchema, this.file);
  }

  /** Atomic write, 0600, previous file kept as a timestamped backup. */
  async write(state: VaultState): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const { backend } = await this.keyInfo();
    const envelope = { format: 'comfy-panel-vault', version: 1, backend, sealed: await this.seal(state, 'vault') };
    await writeFileAtomic(this.file, `${JSON.stringify(envelope, null, 2)}\n`, { mode: 0o600, backupDir: path.join(this.dir, 'backups') });
  }
}

/** The vault for a config; its key as `keys` keeps it (default: the 0600 key file beside it). */
export function openVault(config: PanelConfig, paths: PanelPaths, keys: VaultKeys = fileVaultKeys): Vault {
  const dir = vaultDir(config, paths);
  return new Vault(dir, keys(dir));
}

/** The credential ComfyUI should accept now (hash = API token, a secret), or undefined before `token init`. */
export async function readCurrentCredential(
  config: PanelConfig,
  paths: PanelPaths,
  keys: VaultKeys = fileVaultKeys,
): Promise<{ hash: string; username: string; password?: string; createdAt: string } | undefined> {
  return (await openVault(config, paths, keys).read())?.current;
}
