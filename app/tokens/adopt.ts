import type { Dialect } from '../config/schema.js';
import type { TokenImportResult } from '../contract/ops/tokens.js';
import { readEnvText, readEnvValues } from '../env/index.js';
import { errorMessage, PanelError } from '../errors.js';
import { fingerprint, redact } from '../redact.js';
import { isBcryptHash, type Credential } from './credential.js';
import type { CredentialLocation } from './locations.js';
import { withCredentialLock } from './lock.js';
import type { Vault } from './vault.js';

/** Makes an existing token the vault's current one (the old current becomes previous). No location is written. */
async function adopt(vault: Vault, cred: Credential, source: string): Promise<TokenImportResult> {
  return withCredentialLock(vault.dir, 'a token import', async () => {
    const state = await vault.read();
    const old = state?.current;
    const previous = old && old.hash !== cred.hash ? old : state?.previous;
    // Same hash as a known credential: keep its password (an imported hash never carries one).
    const known = [state?.current, state?.previous].find((c) => c?.hash === cred.hash);
    const current = known ? { ...cred, ...(known.password ? { password: known.password } : {}) } : cred;
    await vault.write({ current, ...(previous ? { previous } : {}) });
    return { fingerprint: fingerprint(cred.hash), ...(previous ? { previousFingerprint: fingerprint(previous.hash) } : {}), username: cred.username, source };
  });
}

/** Adopt the hash ComfyUI-Login uses now: line 1 of the container's login/PASSWORD. */
export async function importFromLocation(vault: Vault, location: CredentialLocation): Promise<TokenImportResult> {
  const r = await location.read();
  if (r.state !== 'present') throw new PanelError(`${location.path}: no usable token (${r.state}: ${r.detail})`, 'import-failed', 'Check that the container runs and has a login/PASSWORD written by ComfyUI-Login.');
  return adopt(vault, { hash: r.token, username: r.values.username ?? '', createdAt: new Date().toISOString() }, location.path);
}

/** Adopt the hash held by KEY in an env file, read with that file's reader's rules. */
export async function importFromEnvFile(vault: Vault, file: string, key: string, dialect: Dialect, username: string): Promise<TokenImportResult> {
  let text: string;
  try {
    text = await readEnvText(file);
  } catch (e) {
    throw new PanelError(redact(errorMessage(e)), 'import-failed', 'Check the path given to --from-env FILE:KEY.');
  }
  let values: Record<string, string>;
  try {
    values = readEnvValues(text, dialect, { file, lookup: () => undefined });
  } catch (e) {
    throw new PanelError(redact(errorMessage(e)), 'import-failed', `Fix the syntax of ${file}.`);
  }
  const value = values[key];
  if (value === undefined) throw new PanelError(`${file}: no key ${key}`, 'import-failed', 'Name the key that holds the token: --from-env FILE:KEY.');
  if (!isBcryptHash(value)) {
    throw new PanelError(
      `${file}: ${key} is not a bcrypt hash when read as ${dialect} (${value.length} chars)`,
      'import-failed',
      dialect === 'compose' ? 'Unquoted, compose drops the $-parts of a hash: quote it in single quotes, or pass --dialect for the reader this file is for.' : 'The API token is line 1 of login/PASSWORD (a $2b$ hash), not the password.',
    );
  }
  return adopt(vault, { hash: value, username, createdAt: new Date().toISOString() }, `${file}:${key}`);
}
