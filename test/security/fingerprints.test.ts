/**
 * Issue 16 item 9: fingerprints are keyed with a per-install secret (a word list no longer
 * reverses them), and credentials inside URLs are masked wherever values are shown masked.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maskLine } from '../../app/env/line-diff.js';
import { findTokenByFingerprint } from '../../app/tokens/audit.js';
import { Vault } from '../../app/tokens/vault.js';
import { describeValue, showValue } from '../../app/env/secrets.js';
import { fingerprint, fingerprinter, fingerprintKeyFile, matchesFingerprint, mask, redact, useFingerprintKey } from '../../app/redact.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'fingerprints-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const unkeyed = (s: string) => `fp:${createHash('sha256').update(s).digest('hex').slice(0, 12)}`;

describe('keyed fingerprints', () => {
  it('a word list of unkeyed SHA-256 fingerprints finds nothing', () => {
    const words = ['hunter2', '1234', 'password', 'comfy', 'letmein'];
    const table = new Map(words.map((w) => [unkeyed(w), w]));
    for (const w of words) {
      expect(fingerprint(w)).toMatch(/^fp:[0-9a-f]{12}$/);
      expect(table.has(fingerprint(w))).toBe(false);
      expect(mask(w)).not.toContain(unkeyed(w));
    }
  });

  it('the key is created on first use, 0600 in a 0700 folder, and is per install', () => {
    const a = path.join(home, 'a', 'data', 'fingerprint.key');
    const b = path.join(home, 'b', 'data', 'fingerprint.key');
    const fa = fingerprinter(a);
    const fb = fingerprinter(b);
    expect(fa('hunter2')).toBe(fa('hunter2'));
    expect(fa('hunter2')).not.toBe(fb('hunter2'));
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(a)).mode & 0o777).toBe(0o700);
    expect(readFileSync(a).length).toBeGreaterThanOrEqual(32);
    // the same file, read again (another process of the same install), gives the same fingerprints
    expect(fingerprinter(a)('hunter2')).toBe(fa('hunter2'));
    expect(fingerprintKeyFile(path.join(home, 'x'))).toBe(path.join(home, 'x', 'fingerprint.key'));
  });

  it('the process-wide fingerprint follows the install key the host sets', () => {
    const file = path.join(home, 'host', 'fingerprint.key');
    useFingerprintKey(file);
    expect(fingerprint('hunter2')).toBe(fingerprinter(file)('hunter2'));
  });

  it('a fingerprint from before keying (old audit entries, a copied unify --to) still matches its secret', async () => {
    expect(matchesFingerprint('hunter2', unkeyed('hunter2'))).toBe(true);
    expect(matchesFingerprint('hunter2', fingerprint('hunter2'))).toBe(true);
    expect(matchesFingerprint('hunter3', fingerprint('hunter2'))).toBe(false);
    // what `token unify --to` looks up
    const vault = new Vault(path.join(home, 'vault'));
    const cred = { hash: `$2b$04$${'a'.repeat(53)}`, username: 'comfy', createdAt: 'now' };
    await vault.write({ current: cred });
    for (const fp of [fingerprint(cred.hash), unkeyed(cred.hash)]) expect(await findTokenByFingerprint({ vault, locations: [] }, fp, 'comfy')).toEqual(cred);
  });
});

describe('credentials inside URLs', () => {
  const url = 'postgres://admin:s3cr3t-pw@db.internal:5432/app';
  it('redact masks the password of any URL in free text, keeping the rest readable', () => {
    const out = redact(`connecting to ${url} failed; retry https://bob:hunter2@example.com/x`);
    expect(out).not.toContain('s3cr3t-pw');
    expect(out).not.toContain('hunter2');
    expect(out).toContain('postgres://admin:[redacted fp:');
    expect(out).toContain('@db.internal:5432/app');
  });

  it('env show, messages and diffs mask it even under a key that is not secret-looking', () => {
    expect(showValue('DATABASE_URL', url, false)).not.toContain('s3cr3t-pw');
    expect(showValue('DATABASE_URL', url, false)).toMatch(/^postgres:\/\/admin:\[redacted fp:[0-9a-f]{12}\]@db\.internal:5432\/app$/);
    expect(showValue('DATABASE_URL', url, true)).toBe(url);
    expect(describeValue('DATABASE_URL', url)).not.toContain('s3cr3t-pw');
    expect(maskLine(`DATABASE_URL=${url}`)).not.toContain('s3cr3t-pw');
    expect(showValue('HOMEPAGE', 'https://example.com/a:b@c', false)).toBe('https://example.com/a:b@c'); // no userinfo: nothing to hide
  });
});
