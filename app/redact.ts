import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The key file of an install (or, later, of an instance): beside its vault data. */
export function fingerprintKeyFile(dataDir: string): string {
  return path.join(dataDir, 'fingerprint.key');
}

const KEY_BYTES = 32;
const keys = new Map<string, Buffer>();

/** Reads the key file, creating it (0600, in a 0700 folder) on first use; one read per file per process. */
function loadKey(file: string): Buffer {
  const known = keys.get(file);
  if (known) return known;
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process created it first: use theirs
    }
    key = readFileSync(file);
  }
  if (key.length < KEY_BYTES) throw new Error(`${file}: not a fingerprint key (${key.length} bytes); delete it and a new one is made (fingerprints shown before then change)`);
  keys.set(file, key);
  return key;
}

const keyed = (key: Buffer, secret: string) => `fp:${createHmac('sha256', key).update(secret, 'utf8').digest('hex').slice(0, 12)}`;

/** Fingerprints under one install's (or instance's) key: code that serves several instances holds one each. */
export function fingerprinter(keyFile: string): (secret: string) => string {
  return (secret) => keyed(loadKey(keyFile), secret);
}

/**
 * The install whose key `fingerprint` uses, set once by the host (CLI, serve, Electron main,
 * the health worker) from its data folder. Until then a random key of this process is used:
 * fingerprints are never unkeyed, only not comparable across processes.
 */
let installKeyFile: string | undefined;
let processKey: Buffer | undefined;

export function useFingerprintKey(keyFile: string): void {
  installKeyFile = keyFile;
}

/** What a worker thread needs to fingerprint exactly as this thread does (its key file, or this process's key). */
export type FingerprintKeyHandle = { file: string } | { key: Uint8Array };

export function fingerprintKeyHandle(): FingerprintKeyHandle {
  if (installKeyFile) return { file: installKeyFile };
  processKey ??= randomBytes(KEY_BYTES);
  return { key: processKey };
}

export function adoptFingerprintKey(handle: FingerprintKeyHandle): void {
  if ('file' in handle) installKeyFile = handle.file;
  else processKey = Buffer.from(handle.key);
}

/**
 * A short, stable, non-reversible name for a secret: safe to show, log and compare. HMAC-SHA256
 * under the install's random key, so a word list cannot reverse a weak secret's fingerprint.
 */
export function fingerprint(secret: string): string {
  if (installKeyFile) return keyed(loadKey(installKeyFile), secret);
  processKey ??= randomBytes(KEY_BYTES);
  return keyed(processKey, secret);
}

/**
 * Whether `fp` names this secret: its keyed fingerprint, or the unkeyed SHA-256 one the panel
 * showed before keys (kept in old audit entries, or copied for `token unify --to`). Only ever
 * compared, never shown.
 */
export function matchesFingerprint(secret: string, fp: string): boolean {
  return fp === fingerprint(secret) || fp === `fp:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12)}`;
}

/** Shows only that a value exists and how long it is. */
export function mask(value: string): string {
  if (value === '') return '(empty)';
  return `•••• (${value.length} chars, ${fingerprint(value)})`;
}

const BCRYPT = /\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}/g;
/** The gateway's client keys and one-time login links (app/gateway/keys.ts). */
const CLIENT_KEY = /\bcp[kl]_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;
const TOKEN_PARAM = /\b(token=)([^\s&"']+)/gi;
const BEARER = /\b(Bearer\s+)([^\s"']+)/g;
/** scheme://user:password@host: the password part. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"']*:)([^\s/?#@"']+)(@)/gi;

const redacted = (v: string) => `[redacted ${fingerprint(v)}]`;
const once = (v: string) => (v.startsWith('[redacted') ? v : redacted(v));

/** The password of every URL in the text, masked (`postgres://admin:[redacted fp:…]@db`). */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_PASSWORD, (_m, head: string, pw: string, at: string) => `${head}${once(pw)}${at}`);
}

/**
 * Removes anything that looks like a credential from free text: bcrypt hashes (the API
 * token), the gateway's `cpk_` client keys, `token=` values (the ComfyUI-Login startup line, URLs), Bearer headers and URL
 * passwords. Known secrets passed in are replaced too, wherever they appear.
 */
export function redact(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const s of known) if (s.length >= 6) out = out.split(s).join(redacted(s));
  out = out
    .replace(BCRYPT, (h) => redacted(h))
    .replace(CLIENT_KEY, (k) => redacted(k))
    .replace(TOKEN_PARAM, (_m, k: string, v: string) => `${k}${once(v)}`)
    .replace(BEARER, (_m, k: string, v: string) => `${k}${once(v)}`);
  return maskUrlCredentials(out);
}
