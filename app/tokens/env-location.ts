import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnvTarget } from '../config/schema.js';
import { readEnvValues, resolveEnvTarget, setEnvValues } from '../env/index.js';
import { errorMessage } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { redact } from '../redact.js';
import { isBcryptHash, type Credential } from './credential.js';
import { hostRestore, hostSnapshot, readHost, type CredentialLocation, type ValueSource } from './locations.js';

/** What each key of an env target carries, from the credential and the config. */
export function envValuesFor(target: EnvTarget, cred: Credential, url: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, source] of Object.entries(target.keys)) {
    if (source === 'token') values[key] = cred.hash;
    else if (source === 'username') values[key] = cred.username;
    else if (source === 'url') values[key] = url;
    else if (cred.password !== undefined) values[key] = cred.password;
  }
  return values;
}

/** A client .env file: each mapped key is written quoted for the file's reader by the env engine. */
export function envTargetLocation(target: EnvTarget, root: string, url: string): CredentialLocation {
  const file = resolveEnvTarget(root, target);
  const tokenKeys = Object.entries(target.keys).filter(([, s]) => s === 'token').map(([k]) => k);
  const holdsSecret = Object.values(target.keys).some((s) => s === 'token' || s === 'password');
  return {
    name: `env:${target.path}`,
    path: file,
    holdsToken: tokenKeys.length > 0,
    read: () =>
      readHost(file, (text) => {
        let parsed: Record<string, string>;
        try {
          parsed = readEnvValues(text, target.dialect, { file, lookup: () => undefined });
        } catch (e) {
          return { state: 'malformed', detail: redact(errorMessage(e)).slice(0, 200) };
        }
        const values: Partial<Record<ValueSource, string>> = {};
        for (const [key, source] of Object.entries(target.keys)) {
          const v = parsed[key];
          if (v !== undefined) values[source] = v;
        }
        const token = tokenKeys.map((k) => parsed[k]).find((v) => v !== undefined);
        if (tokenKeys.length === 0) return { state: 'malformed', detail: 'the target maps no key to the token' };
        if (token === undefined) return { state: 'missing', detail: `no ${tokenKeys.join('/')} key` };
        if (!isBcryptHash(token)) return { state: 'malformed', detail: `${tokenKeys.join('/')} is not a bcrypt hash as read by ${target.dialect}` };
        const urlKey = Object.keys(target.keys).find((k) => target.keys[k] === 'url');
        const problem = urlKey && values.url !== undefined && values.url !== url ? `${urlKey} is ${values.url}, the server is ${url}` : undefined;
        return { state: 'present', token, values, ...(problem ? { problem } : {}) };
      }),
    snapshot: () => hostSnapshot(file),
    async write(cred) {
      const old = await hostSnapshot(file);
      const text = setEnvValues(old.content ?? '', target.dialect, envValuesFor(target, cred, url));
      await fs.mkdir(path.dirname(file), { recursive: true });
      // A file holding the token or password is made 0600 (its owner is kept); others keep their mode.
      await writeFileAtomic(file, text, { ...(holdsSecret ? { mode: 0o600 } : { newMode: 0o644 }), backup: false });
    },
    restore: (snap) => hostRestore(file, snap),
  };
}
