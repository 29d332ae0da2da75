import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { formFields, httpError, json, redirect, type Reply, type Req } from './http-kit.js';

/** Where ComfyUI-Login lives under the ComfyUI root; the double "loads" it only if it is there. */
export const LOGIN_NODE_DIR = 'custom_nodes/ComfyUI-Login';

/** Installs (login) or removes (--no-login) the login node folder, as the image recipe would. */
export function applyLoginFlag(root: string, login: boolean): void {
  const dir = join(root, LOGIN_NODE_DIR);
  if (!login) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, '__init__.py'))) writeFileSync(join(dir, '__init__.py'), '# ComfyUI-Login (test double)\n');
}

export function loginNodeInstalled(root: string): boolean {
  return existsSync(join(root, LOGIN_NODE_DIR, '__init__.py'));
}

const SESSION_COOKIE = 'AIOHTTP_SESSION';
const BCRYPT_HASH = /^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/;

interface Session {
  logged_in?: boolean;
  username?: string;
}

/** Thrown where the Python node raises (e.g. a malformed header): aiohttp turns it into a 500. */
export class NodeCrash extends Error {}

const LOGIN_HTML = (firstTime: boolean, wrong: boolean) => `<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>ComfyUI Login</title><link rel="stylesheet" href="/login.css"></head>
<body>
<form action="/login" method="post">
  <h1>${firstTime ? 'Set a password for ComfyUI' : 'ComfyUI Login'}</h1>
  ${wrong ? '<p class="error">Wrong password</p>' : ''}
  <input type="text" name="username" placeholder="Username">
  <input type="password" name="password" placeholder="Password" required>
  <button type="submit">${firstTime ? 'Set password' : 'Login'}</button>
</form>
</body>
</html>
`;

/**
 * ComfyUI-Login as observed: PASSWORD is read once (token = line 1, the bcrypt hash string);
 * a missing PASSWORD is retried on every request until the first login writes it. Sessions
 * are encrypted cookies keyed by `.secret-key.txt` in the node folder, like aiohttp_session's
 * EncryptedCookieStorage, so they survive restarts.
 */
export class LoginNode {
  private token = '';
  private cachedHash: string | undefined;
  private readonly passwordPath: string;
  private readonly key: Buffer;

  constructor(
    root: string,
    private readonly log: (line: string) => void,
  ) {
    this.passwordPath = join(root, 'login', 'PASSWORD');
    this.key = this.sessionKey(join(root, LOGIN_NODE_DIR, '.secret-key.txt'));
    if (!existsSync(join(root, 'login'))) {
      log('Password directory does not exists, creating...');
      mkdirSync(join(root, 'login'), { recursive: true });
    }
    this.loadToken();
  }

  private sessionKey(path: string): Buffer {
    if (existsSync(path)) {
      const [key] = readFileSync(path, 'utf8').split(',');
      if (key) return Buffer.from(key, 'base64url');
    }
    const key = randomBytes(32);
    writeFileSync(path, `${key.toString('base64url')},${new Date().toISOString()}`, { mode: 0o600 });
    return key;
  }

  private loadToken(): void {
    try {
      this.token = readFileSync(this.passwordPath, 'utf8').split('\n')[0]!.trim();
      this.log(`For direct API calls, use token=${this.token}`);
    } catch {
      this.log('Please set up your password before use. The token will be a hashed string derived from your password.');
      this.token = '';
    }
  }

  private readSession(req: Req): Session {
    const cookie = (req.raw.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    if (!cookie) return {};
    try {
      const data = Buffer.from(cookie.slice(SESSION_COOKIE.length + 1).replace(/^"|"$/g, ''), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
      return (JSON.parse(plain) as { session: Session }).session;
    } catch {
      return {}; // a cookie we cannot decrypt is an empty session, as in aiohttp_session
    }
  }

  /** Set-Cookie for a changed session; the value is quoted, as Python's SimpleCookie does for '='. */
  private sessionCookie(session: Session): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ created: Math.floor(Date.now() / 1000), session }), 'utf8'), cipher.final()]);
    const value = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    return `${SESSION_COOKIE}="${value}"; HttpOnly; Path=/`;
  }

  /** The login middleware: undefined lets the request through, else the reply that stops it. */
  authorize(req: Req): Reply | undefined {
    const path = req.url.pathname;
    if (path === '/login' || path.endsWith('.css') || path.endsWith('.js') || path.endsWith('.ico')) return undefined;
    if (this.token === '') this.loadToken();
    if (this.readSession(req).logged_in) return undefined;
    const header = req.raw.headers.authorization;
    if (header) {
      const words = header.trim().split(/\s+/);
      // The node unpacks header.split() into exactly two names; anything else raises.
      if (words.length !== 2) throw new NodeCrash(`ValueError: ${words.length < 2 ? 'not enough' : 'too many'} values to unpack (expected 2)`);
      if (words[0] === 'Bearer' && words[1] === this.token) return undefined;
    }
    if (req.url.searchParams.get('token') === this.token) return undefined;
    if ((req.raw.headers.accept ?? '').includes('text/html')) return redirect('/login');
    return json({ error: 'Authentication required.' }, 401);
  }

  /** Routes the node registers; undefined for any other path. */
  async route(req: Req): Promise<Reply | undefined> {
    if (req.route === '/login' && req.method === 'GET') return this.loginPage(req);
    if (req.route === '/login' && req.method === 'POST') return this.login(req);
    if (req.route === '/logout' && req.method === 'GET') {
      return redirect('/login', { 'Set-Cookie': this.sessionCookie({ logged_in: false }) });
    }
    if (req.route === '/login' || req.route === '/logout') return httpError(405, { Allow: req.route === '/login' ? 'GET,HEAD,POST' : 'GET,HEAD' });
    return undefined;
  }

  private loginPage(req: Req): Reply {
    if (this.readSession(req).logged_in) return redirect('/');
    const html = LOGIN_HTML(!existsSync(this.passwordPath), req.url.searchParams.get('wrong_password') === '1');
    return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: html };
  }

  private async login(req: Req): Promise<Reply> {
    const form = await formFields(req);
    const password = form.get('password');
    // The node calls data.get('password').encode(): a missing field (or a JSON body) raises.
    if (password === undefined) throw new NodeCrash("AttributeError: 'NoneType' object has no attribute 'encode'");
    if (existsSync(this.passwordPath)) {
      this.cachedHash ??= readFileSync(this.passwordPath, 'utf8').split('\n')[0]!;
      if (!BCRYPT_HASH.test(this.cachedHash)) throw new NodeCrash('ValueError: Invalid salt');
      if (!bcrypt.compareSync(password, this.cachedHash)) return redirect('/login?wrong_password=1');
      return redirect('/', { 'Set-Cookie': this.sessionCookie({ logged_in: true, username: form.get('username') ?? '' }) });
    }
    const username = form.get('username');
    if (username === undefined) throw new NodeCrash("AttributeError: 'NoneType' object has no attribute 'encode'");
    const hash = bcrypt.hashSync(password, 12);
    writeFileSync(this.passwordPath, `${hash}\n${username}`);
    this.cachedHash = hash;
    return redirect('/', { 'Set-Cookie': this.sessionCookie({ logged_in: true, username }) });
  }
}
