import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CredentialLocation, ContainerFiles, LocationSnapshot } from './locations.js';

/**
 * ComfyUI-Login's session key (`custom_nodes/ComfyUI-Login/.secret-key.txt`, `<key>,<timestamp>`):
 * browser sessions are encrypted with it, so they survive a new PASSWORD. Only a new key ends them.
 * The key is replaced with a random one dated 2000-01-01: the node finds it older than its 30 days,
 * writes a fresh one of its own at the next start, and every old cookie stops decrypting. A file that
 * does not parse would make the node fail to import (and leave ComfyUI without auth), so the line
 * keeps the node's format: a Fernet-sized key, a naive ISO time every Python 3 `fromisoformat` reads.
 */
export const EXPIRED_KEY_TIME = '2000-01-01T00:00:00';

export function sessionKeyPath(comfyRoot: string): string {
  return path.posix.join(comfyRoot, 'custom_nodes', 'ComfyUI-Login', '.secret-key.txt');
}

const isMissing = (e: unknown) => ['container-no-such-file', 'docker-no-such-container'].includes((e as { code?: string }).code ?? '');

/** A key the node will replace at its next start (see above); never the key in use. */
export function expiredSessionKey(): string {
  return `${randomBytes(32).toString('base64url')}=,${EXPIRED_KEY_TIME}`;
}

/**
 * The session key as a step of every rotation, rollback and unify: backed up and journaled like the
 * credential's copies, replaced before the restart (keeping its owner and mode, so the node running as
 * uid 1000 can rewrite it). A rollback does not bring the old key back: sessions opened with the new
 * password during the attempt end too. Holds no token: audits and the pre-commit re-read skip it.
 */
export function sessionKeyLocation(files: ContainerFiles, comfyRoot: string): CredentialLocation {
  const file = sessionKeyPath(comfyRoot);
  const replace = async () => {
    let mode: number;
    try {
      mode = (await files.readFileEntry(file)).mode & 0o777;
    } catch (e) {
      // No key yet (the node writes one at its first start), or no container: no session to end.
      if (isMissing(e)) return;
      throw e;
    }
    await files.writeFile(file, expiredSessionKey(), mode);
  };
  return {
    name: 'session-key',
    path: `container:${file}`,
    holdsToken: false,
    read: () => Promise.resolve({ state: 'missing', detail: 'the session key holds no token' }),
    async snapshot(): Promise<LocationSnapshot> {
      try {
        // The old key is not kept: nothing brings it back (see above).
        return { existed: true, mode: (await files.readFileEntry(file)).mode & 0o777 };
      } catch (e) {
        if (isMissing(e)) return { existed: false };
        throw e;
      }
    },
    write: replace,
    restore: replace,
  };
}
