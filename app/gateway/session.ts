/**
 * Browser sessions: a person signs in with a key (or a one-time link) on the gateway's page
 * and gets an HttpOnly, SameSite=Strict cookie naming the key by id, signed with the
 * gateway's own HMAC key (`<stateDir>/session.key`, created 0600). The cookie is checked
 * against the live key store on every request, so it dies the moment its key is revoked
 * or expires, and it survives a gateway restart.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const SESSION_COOKIE = 'cpg_session';
export const SESSION_KEY_FILE = 'session.key';
export const USED_LINKS_FILE = 'used-links.jsonl';
const DEFAULT_SESSION_MS = 12 * 3600_000;

export class Sessions {
  private used = new Set<string>();

  private constructor(
    private readonly secret: Buffer,
    private readonly usedFile: string,
    private readonly maxAgeMs: number,
  ) {}

  static async open(stateDir: string, maxAgeMs = DEFAULT_SESSION_MS): Promise<Sessions> {
    await fs.mkdir(stateDir, { recursive: true });
    const file = path.join(stateDir, SESSION_KEY_FILE);
    let secret = await fs.readFile(file).catch(() => undefined);
    if (!secret || secret.length < 32) {
      secret = randomBytes(32);
      // wx: two gateways on one folder never overwrite each other's key; the loser reads it.
      await fs.writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(async () => {
        secret = await fs.readFile(file);
      });
    }
    const sessions = new Sessions(secret, path.join(stateDir, USED_LINKS_FILE), maxAgeMs);
    const used = await fs.readFile(sessions.usedFile, 'utf8').catch(() => '');
    for (const line of used.split('\n')) if (line.trim()) sessions.used.add(line.trim());
    return sessions;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  /** A cookie value for key `keyId`, ending at the earlier of the session age and the key's expiry. */
  issue(keyId: string, keyExpiresAt: string | undefined, now = Date.now()): { value: string; maxAgeSeconds: number } {
    const end = Math.min(now + this.maxAgeMs, keyExpiresAt ? Date.parse(keyExpiresAt) : Infinity);
    const body = `${keyId}.${end}.${randomBytes(9).toString('base64url')}`;
    return { value: `${body}.${this.sign(body)}`, maxAgeSeconds: Math.max(1, Math.floor((end - now) / 1000)) };
  }

  /** The key id a cookie value names, if its signature holds and it has not ended. */
  verify(value: string, now = Date.now()): string | undefined {
    const parts = value.split('.');
    if (parts.length !== 4) return undefined;
    const body = parts.slice(0, 3).join('.');
    const given = Buffer.from(parts[3]!);
    const want = Buffer.from(this.sign(body));
    if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
    if (!(Number(parts[1]) > now)) return undefined;
    return parts[0];
  }

  /** Marks a one-time link used (persisted before the session is given); false if it already was. */
  async consumeLink(linkId: string): Promise<boolean> {
    if (this.used.has(linkId)) return false;
    this.used.add(linkId);
    await fs.appendFile(this.usedFile, `${linkId}\n`, { mode: 0o600 });
    return true;
  }
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The sign-in page: paste a key, or confirm a one-time link (a POST, so link previews cannot spend it). */
export function loginPage(opts: { next: string; link?: string; error?: string }): string {
  const field = opts.link
    ? `<input type="hidden" name="link" value="${escapeHtml(opts.link)}"><p>Sign in with the link you were given. It works once.</p>`
    : `<label for="key">API key</label><input id="key" name="key" type="password" autocomplete="off" spellcheck="false" placeholder="cpk_..." required>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - ComfyUI gateway</title>
<style>body{font:16px system-ui,sans-serif;background:#1e1e1e;color:#eee;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#2a2a2a;padding:2rem;border-radius:8px;display:grid;gap:.75rem;min-width:min(24rem,90vw)}
input{font:inherit;padding:.5rem;border-radius:4px;border:1px solid #555;background:#111;color:#eee}
button{font:inherit;padding:.5rem;border:0;border-radius:4px;background:#3b82f6;color:#fff;cursor:pointer}.error{color:#fca5a5}</style></head>
<body><main><form method="post" action="/_gateway/login"><h1>ComfyUI</h1>
${opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : ''}${field}
<input type="hidden" name="next" value="${escapeHtml(opts.next)}"><button type="submit">Sign in</button></form></main></body></html>
`;
}

/** A same-origin path to go to after signing in; anything else goes to "/". */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') && !next.startsWith('/_gateway/') ? next : '/';
}
