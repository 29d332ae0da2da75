import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * OpenSSH known_hosts, read the way ssh(1) reads it: comma-separated host patterns (`*`, `?`,
 * `!negation`, `[host]:port` for ports other than 22) or hashed names (`|1|salt|hmac`),
 * `@revoked` keys, `@cert-authority` lines skipped (no certificate support here).
 */
export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The key type from the line, e.g. ssh-ed25519. */
  type: string;
  /** The key in SSH wire format (base64-decoded). */
  key: Buffer;
}

/** The name known_hosts stores for a host: the bare name on port 22, `[name]:port` otherwise. */
export const knownHostsName = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

/** OpenSSH's fingerprint form, `SHA256:<base64 without padding>`. */
export const fingerprintOf = (key: Buffer) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hostsMatch(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false; // a negated match overrides any other
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The entries for `name` in the given files; files that do not exist are skipped. */
export function knownHostEntries(files: string[], name: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((raw, i) => {
      const fields = raw.trim().split(/\s+/);
      if (!fields[0] || fields[0].startsWith('#')) return;
      const marker = fields[0].startsWith('@') ? fields.shift()?.slice(1) : undefined;
      const [hosts, type, blob] = fields;
      if (!hosts || !type || !blob || !hostsMatch(hosts, name)) return;
      if (marker !== undefined && marker !== 'revoked' && marker !== 'cert-authority') return;
      out.push({ file, line: i + 1, ...(marker ? { marker } : {}), type, key: Buffer.from(blob, 'base64') });
    });
  }
  return out;
}

export type HostKeyVerdict =
  | { ok: true; known: boolean }
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; fingerprint: string; where?: string };

/**
 * The host key policy: a key listed for the host passes; a revoked key, or a different key
 * where one is listed, never does (someone may be in the middle); an unlisted host passes only
 * when the operator's ssh config says StrictHostKeyChecking no / accept-new. Nothing is written
 * to known_hosts: adding a host stays the operator's decision.
 */
export function verifyHostKey(entries: KnownHostEntry[], key: Buffer, acceptUnknown: boolean): HostKeyVerdict {
  const fingerprint = fingerprintOf(key);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { ok: false, reason: 'revoked', fingerprint, where: `${revoked.file}:${revoked.line}` };
  const plain = entries.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.key.equals(key))) return { ok: true, known: true };
  if (plain.length > 0) return { ok: false, reason: 'changed', fingerprint, where: plain.map((e) => `${e.file}:${e.line}`).join(', ') };
  return acceptUnknown ? { ok: true, known: false } : { ok: false, reason: 'unknown', fingerprint };
}

/** ssh2's host key algorithm names for the key types known_hosts lists, so the server shows one of those. */
export function hostKeyAlgorithms(entries: KnownHostEntry[]): string[] {
  const names = entries
    .filter((e) => e.marker === undefined)
    .flatMap((e) => (e.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.type]));
  return [...new Set(names)];
}
