import { Fernet } from './fernet.js';
import type { Reply, Req } from './http-kit.js';
import { pyJson } from './pyjson.js';

export const SESSION_COOKIE = 'AIOHTTP_SESSION';

/** An aiohttp_session Session: a mapping that remembers whether it changed (only then is a cookie sent). */
export class Session {
  changed = false;
  constructor(
    readonly created: number,
    private readonly mapping: Record<string, unknown>,
  ) {}

  get(key: string): unknown {
    return this.mapping[key];
  }

  set(key: string, value: unknown): void {
    this.mapping[key] = value;
    this.changed = true;
  }

  /** MutableMapping.pop: changes the session only when the key was there. */
  pop(key: string): void {
    if (!Object.hasOwn(this.mapping, key)) return;
    delete this.mapping[key];
    this.changed = true;
  }

  data(): Record<string, unknown> {
    return this.mapping;
  }
}

/** The request's cookie as aiohttp parses it: quotes removed, backslash escapes undone. */
function cookieValue(req: Req, name: string): string | undefined {
  for (const part of (req.raw.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    return raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return undefined;
}

/**
 * aiohttp_session's EncryptedCookieStorage as ComfyUI-Login sets it up: the session lives in the
 * AIOHTTP_SESSION cookie, Fernet-encrypted with the node's key, no max age. A cookie the key
 * cannot decrypt is an empty session (and a warning in the log), so replacing the key file
 * ends every session while a PASSWORD change does not.
 */
export class Sessions {
  private readonly fernet: Fernet;
  private readonly loaded = new WeakMap<Req, Session>();

  /** Throws like Fernet(key) when the key is not 32 url-safe base64 bytes. */
  constructor(
    key: string,
    private readonly log: (line: string) => void,
  ) {
    this.fernet = new Fernet(key);
  }

  /** get_session(request): loaded once per request. */
  get(req: Req): Session {
    let s = this.loaded.get(req);
    if (!s) {
      s = this.load(req);
      this.loaded.set(req, s);
    }
    return s;
  }

  private load(req: Req): Session {
    const fresh = () => new Session(Math.floor(Date.now() / 1000), {});
    const cookie = cookieValue(req, SESSION_COOKIE);
    if (cookie === undefined) return fresh();
    const plain = this.fernet.decrypt(cookie);
    if (!plain) {
      this.log('Cannot decrypt cookie value, create a new fresh session');
      return fresh();
    }
    const data = JSON.parse(plain.toString('utf8')) as { created?: number; session?: Record<string, unknown> };
    return new Session(data.created ?? Math.floor(Date.now() / 1000), data.session ?? {});
  }

  /** The session middleware after the handler: a changed session is written into the reply, raised or not. */
  save(req: Req, reply: Reply): Reply {
    const s = this.loaded.get(req);
    if (!s?.changed) return reply;
    const empty = Object.keys(s.data()).length === 0;
    // SimpleCookie quotes a value holding "=" (Fernet's base64 padding); aiohttp deletes the cookie of an empty session.
    const token = empty ? '' : this.fernet.encrypt(Buffer.from(pyJson({ created: s.created, session: s.data() })));
    const value = empty ? `${SESSION_COOKIE}=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/` : `${SESSION_COOKIE}=${token.includes('=') ? `"${token}"` : token}; HttpOnly; Path=/`;
    const prior = reply.headers?.['Set-Cookie'];
    return { ...reply, headers: { ...reply.headers, 'Set-Cookie': [...(prior === undefined ? [] : Array.isArray(prior) ? prior : [prior]), value] } };
  }
}
