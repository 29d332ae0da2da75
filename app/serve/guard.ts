import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface SessionLimits {
  /** How long a sign-in link (the `?key=` URL) stays valid; it works once. */
  ticketTtlMs: number;
  /** A session ends this long after sign-in, whatever happens. */
  maxAgeMs: number;
  /** ...or after this long without a request. */
  idleMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { ticketTtlMs: 10 * 60_000, maxAgeMs: 24 * 3_600_000, idleMs: 4 * 3_600_000 };

interface Session {
  createdAt: number;
  lastSeen: number;
}

const random = () => randomBytes(32).toString('base64url');

/**
 * Browser-mode access control, like Jupyter's, made short-lived: a sign-in link carries a
 * one-time ticket (valid minutes, used once, so the URL left in history, favicons or session
 * files opens nothing) that is traded for a session cookie. The cookie is named after this
 * server's port (cookies ignore ports), host-only and Path=/ (`__Host-` needs https), HttpOnly,
 * SameSite=Strict, with a Max-Age; the session ends at its age or idle limit, or at logout.
 * Scripts send `Authorization: Bearer <key>`, the launch key printed at start, which can also
 * mint new sign-in links. Host and Origin must be loopback names for our port, which defeats
 * DNS rebinding and cross-site requests.
 */
export class AccessGuard {
  /** The launch key: Bearer for scripts, for this server's lifetime; never put in a URL. */
  readonly key = random();
  private readonly tickets = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly port: () => number,
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get cookieName(): string {
    return `comfy_panel_${this.port()}`;
  }

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

  /** A new one-time sign-in ticket (for `?key=`). */
  mintTicket(): string {
    this.prune();
    const ticket = random();
    this.tickets.set(ticket, this.now() + this.limits.ticketTtlMs);
    return ticket;
  }

  /** Trades a valid ticket for a new session's Set-Cookie value; undefined when the ticket is unknown, used or expired. */
  redeem(ticket: string): string | undefined {
    const expires = this.tickets.get(ticket);
    this.tickets.delete(ticket); // once, whatever the outcome
    if (expires === undefined || expires < this.now()) return undefined;
    const id = random();
    const t = this.now();
    this.sessions.set(id, { createdAt: t, lastSeen: t });
    return `${this.cookieName}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.limits.maxAgeMs / 1000)}`;
  }

  /** Clears the cookie in the browser. */
  clearedCookie(): string {
    return `${this.cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  /** The session id the request's cookie names, if it is a live session. */
  sessionOf(req: IncomingMessage): string | undefined {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === this.cookieName && value && this.live(value)) return value;
    }
    return undefined;
  }

  /** Whether the session is still valid (not logged out, within its age and idle limits). */
  live(id: string): boolean {
    const s = this.sessions.get(id);
    const t = this.now();
    if (!s || t - s.createdAt >= this.limits.maxAgeMs || t - s.lastSeen >= this.limits.idleMs) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  /** A request is authenticated by a live session cookie (which it keeps alive), or by `Authorization: Bearer <key>`. */
  authenticated(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && this.keyMatches(auth.slice(7))) return true;
    const id = this.sessionOf(req);
    if (id) this.sessions.get(id)!.lastSeen = this.now();
    return id !== undefined;
  }

  logout(id: string): void {
    this.sessions.delete(id);
  }

  /** Drops expired tickets and sessions (called as tickets are minted and by the server's sweep). */
  prune(): void {
    const t = this.now();
    for (const [ticket, expires] of this.tickets) if (expires < t) this.tickets.delete(ticket);
    for (const id of [...this.sessions.keys()]) this.live(id);
  }
}
