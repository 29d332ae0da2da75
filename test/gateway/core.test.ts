/** The gateway's pieces in-process: the route table, the key store, scrubbing, sessions. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createKey, listKeys, revokeKey, rotateKey, ruleFor } from '../../app/gateway/index.js';
import { KeyRing } from '../../app/gateway/ring.js';
import { ScrubStream, secretForms } from '../../app/gateway/scrub.js';
import { Sessions } from '../../app/gateway/session.js';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'gw-core-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('route table', () => {
  it.each([
    ['GET', '/system_stats', 'read'],
    ['GET', '/api/history/abc', 'read'],
    ['POST', '/api/prompt', 'generate'],
    ['GET', '/ws', 'generate'],
    ['GET', '/view', 'generate'],
    ['POST', '/upload/image', 'generate'],
    ['GET', '/userdata/anything.js', 'generate'],
    ['POST', '/api/userdata/workflows%2Fa.json', 'generate'],
    ['POST', '/api/userdata/workflows%2F..%2F..%2Fx.json', 'admin'],
    ['POST', '/api/userdata/anything.js', 'admin'],
    ['DELETE', '/api/userdata/user.css', 'admin'],
    ['POST', '/userdata/workflows%2Fa.json/move/user.css', 'admin'],
    ['GET', '/assets/index-abc.js', 'generate'],
    ['GET', '/internal/logs', 'admin'],
    ['GET', '/internal/x.js', 'admin'],
    ['POST', '/free', 'admin'],
    ['GET', '/manager/reboot', 'admin'],
    ['PATCH', '/internal/logs/subscribe', 'admin'],
  ])('%s %s needs %s', (method, path, scope) => {
    expect(ruleFor(method, path)).toMatchObject({ kind: 'proxy', scope });
  });
  it('never forwards ComfyUI-Login\'s own form', () => {
    expect(ruleFor('POST', '/login')).toEqual({ kind: 'login-node' });
    expect(ruleFor('GET', '/api/logout')).toEqual({ kind: 'login-node' });
  });
});

describe('key store', () => {
  it('creates cpk_ keys of 256 random bits, stores only their hash, and shows the raw key once', async () => {
    const d = dir();
    const k = await createKey(d, { name: 'a', scope: 'read' });
    expect(k.key).toMatch(/^cpk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(k.key.slice(4), 'base64url')).toHaveLength(32);
    const file = readFileSync(join(d, 'keys.json'), 'utf8');
    expect(file).not.toContain(k.key);
    expect(file).toContain('sha256:');
    expect(JSON.stringify(await listKeys(d))).not.toContain('sha256:');
    await expect(createKey(d, { name: 'a', scope: 'read' })).rejects.toThrow('already exists');
    await expect(createKey(d, { name: 'bad name', scope: 'read' })).rejects.toThrow('key name');
    await expect(createKey(d, { name: 'b', scope: 'read', expiresAt: new Date(Date.now() - 1000) })).rejects.toThrow('in the past');
  });

  it('rotation keeps the old key for the overlap, then the ring refuses it; revocation is immediate', async () => {
    const d = dir();
    const old = await createKey(d, { name: 'n', scope: 'generate', maxQueued: 2 });
    const { successor, previous } = await rotateKey(d, 'n', 60_000);
    expect(successor).toMatchObject({ name: 'n', scope: 'generate', maxQueued: 2, rotatedFrom: old.id });
    expect(previous).toMatchObject({ state: 'overlap', supersededBy: successor.id });
    const ring = new KeyRing(d);
    await ring.start(60_000);
    expect(ring.verify(old.key)?.id).toBe(old.id);
    expect(ring.verify(old.key, Date.now() + 61_000)).toBeUndefined();
    expect(ring.verify(successor.key, Date.now() + 61_000)?.id).toBe(successor.id);
    await revokeKey(d, 'n');
    await ring.refresh();
    expect(ring.verify(successor.key)).toBeUndefined();
    expect(ring.verify(old.key)).toBeUndefined();
    ring.stop();
    const zero = await createKey(d, { name: 'z', scope: 'read' });
    const r0 = await rotateKey(d, 'z', 0);
    expect(r0.previous.state).toBe('expired');
    expect(zero.id).toBe(r0.previous.id);
  });
});

describe('scrubbing and sessions', () => {
  it('replaces the hash in a streamed body even when a chunk boundary cuts it, keeping the length', async () => {
    const hash = '$2b$12$' + 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0';
    const text = `log: For direct API calls, use token=${hash}\nurl ?token=${encodeURIComponent(hash)}\n`;
    const chunks = [text.slice(0, 45), text.slice(45, 50), text.slice(50, 100), text.slice(100)].map((s) => Buffer.from(s));
    const out: Buffer[] = [];
    const scrub = new ScrubStream(secretForms(hash).map((f) => Buffer.from(f)));
    for await (const c of Readable.from(chunks).pipe(scrub)) out.push(c as Buffer);
    const result = Buffer.concat(out).toString();
    expect(result).not.toContain(hash);
    expect(result).not.toContain(encodeURIComponent(hash));
    expect(result.length).toBe(text.length);
    expect(result).toContain('[comfyui-credential-redacted]');
  });

  it('a session cookie is signed, ends with its key\'s expiry and survives a restart of the gateway', async () => {
    const d = dir();
    const s = await Sessions.open(d);
    const { value, maxAgeSeconds } = s.issue('k_0123456789abcdef', new Date(Date.now() + 60_000).toISOString());
    expect(maxAgeSeconds).toBeLessThanOrEqual(60);
    expect(s.verify(value)).toBe('k_0123456789abcdef');
    expect(s.verify(value.replace('k_0123456789abcdef', 'k_fedcba9876543210'))).toBeUndefined();
    expect(s.verify(value, Date.now() + 61_000)).toBeUndefined();
    expect((await Sessions.open(d)).verify(value)).toBe('k_0123456789abcdef');
    expect(await s.consumeLink('l_1')).toBe(true);
    expect(await (await Sessions.open(d)).consumeLink('l_1')).toBe(false);
  });
});
