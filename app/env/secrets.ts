/** Which keys and values are secrets, and how to show a value without leaking one. */
import { fingerprint, mask, maskUrlCredentials } from '../redact.js';
import { looksLikeKey } from '../gateway/keys.js';
import { isBcryptHash } from '../tokens/credential.js';

/** Name segments that mark a secret (`API_KEY`, `db.password`, `comfyToken`). */
const SECRET_SEGMENTS = new Set(['TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'PASS', 'PWD', 'KEY', 'APIKEY', 'HASH', 'CREDENTIAL', 'CREDENTIALS', 'AUTH', 'PRIVATE', 'SALT', 'COOKIE', 'SESSION', 'SIGNATURE', 'BEARER']);
/** Words distinctive enough to count at the end of a segment too (`APITOKEN`, `DBPASSWORD`). */
const SECRET_SUFFIX = /(TOKEN|SECRET|PASSWORD|PASSWD|APIKEY|CREDENTIALS?)$/;
const COMFY_TOKEN_NAME = /COMFY.*(TOKEN|HASH)/i;
const COMFY_PASSWORD_NAME = /COMFY.*PASSWORD/i;
/** Files that document keys with placeholder values. */
const EXAMPLE_FILE = /(^|[./])(example|sample|template|dist|defaults?)(\.env)?$/i;

export function isSecretKey(key: string): boolean {
  const segments = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().split(/[_.\-\s]+/);
  return segments.some((s) => SECRET_SEGMENTS.has(s) || SECRET_SUFFIX.test(s));
}

/** Long, unspaced, high-entropy strings: API keys, random tokens. */
export function looksRandom(value: string): boolean {
  if (value.length < 20 || !/^[A-Za-z0-9+/=_.~-]+$/.test(value) || !/\d/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[./~]/.test(value) || (value.match(/\//g)?.length ?? 0) > 1) return false; // paths, not tokens
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits >= 3.5;
}

/** By name, or by value whatever the name: the ComfyUI token (a bcrypt hash), a gateway client key (`cpk_…`), a random string. */
export function isSecret(key: string, value: string): boolean {
  return isSecretKey(key) || isBcryptHash(value) || looksLikeKey(value) || looksRandom(value);
}

/** Which ComfyUI credential a value is, if any: the token (bcrypt hash) or the password. */
export function comfyCredentialKind(key: string, value: string): 'token' | 'password' | undefined {
  if (value === '') return undefined;
  if (isBcryptHash(value) || COMFY_TOKEN_NAME.test(key)) return 'token';
  if (COMFY_PASSWORD_NAME.test(key)) return 'password';
  return undefined;
}

/** What a file others may read must not hold, in words: a ComfyUI credential, or a gateway client key (one per client, so never compared across files). */
export function heldCredential(key: string, value: string): string | undefined {
  const comfy = comfyCredentialKind(key, value);
  if (comfy) return `the ComfyUI ${comfy}`;
  return looksLikeKey(value) ? 'a gateway client key' : undefined;
}

export function isExampleFile(file: string): boolean {
  return EXAMPLE_FILE.test(file.split('/').pop() ?? file);
}

/** A value for messages: a fingerprint for secrets, else the value (shortened, a URL's password masked). */
export function describeValue(key: string, value: string): string {
  if (isSecret(key, value)) return value === '' ? '(empty)' : fingerprint(value);
  const shown = maskUrlCredentials(value);
  return JSON.stringify(shown.length > 60 ? `${shown.slice(0, 57)}...` : shown);
}

/** A value for results: masked when it is a secret (a URL: its password), unless reveal was asked for explicitly. */
export function showValue(key: string, value: string, reveal: boolean): string {
  if (reveal) return value;
  return isSecret(key, value) ? mask(value) : maskUrlCredentials(value);
}
