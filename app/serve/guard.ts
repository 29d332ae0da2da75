import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'comfy_panel_session';

/**
 * Browser-mode access control, like Jupyter's: a random per-launch key in the printed URL
 * is exchanged for an HttpOnly SameSite=Strict session cookie. Host and Origin must be
 * loopback names for our port, which defeats DNS rebinding and cross-site requests.
 */
export class AccessGuard {
  readonly key = randomBytes(32).toString('base64url');
  private readonly sessions = new Set<string>();

  constructor(private readonly port: () => number) {}

  private allowedHosts(): Set<string> {
    const p = this.port();
    return new Set([`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`]);
  }

  /** Why the request's Host or Origin is refused, or undefined when both are fine. */
  foreignHeaders(req: IncomingMessage): string | undefined {
    const host = req.headers.host?.toLowerCase();
    if (!host || !this.allowedHosts().has(host)) return 'foreign Host header';
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost: string;
      try {
        const u = new URL(origin);
        originHost = u.protocol === 'http:' ? u.host.toLowerCase() : '';
      } catch {
        originHost = '';
      }
      if (!this.allowedHosts().has(originHost)) return 'foreign Origin header';
    }
    return undefined;
  }

  keyMatches(candidate: string | null | undefined): boolean {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.key);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  newSessionCookie(): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.add(id);
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** A request is authenticated by the session cookie, or by `Authorization: Bearer <key>` for scripts. */
  authenticated(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && this.keyMatches(auth.slice(7))) return true;
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === SESSION_COOKIE && value && this.sessions.has(value)) return true;
    }
    return false;
  }
}
