import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { formFields, json, raisedRedirect, redirect, type Reply, type Req } from './http-kit.js';
import { Sessions } from './sessions.js';

/** Where ComfyUI-Login lives under the ComfyUI root; the double "loads" it only if it is there. */
export const LOGIN_NODE_DIR = 'custom_nodes/ComfyUI-Login';

/**
 * Which ComfyUI-Login is installed: `current` is the newest commit (69109257f4, with API
 * tokens); `pre-token` is a commit before Bearer support (7ef55034, the one the recipe pinned),
 * which reads `<root>/PASSWORD` and answers every unauthenticated request with 302 to /login.
 */
export type LoginNodeVersion = 'current' | 'pre-token';
export const LOGIN_NODE_VERSIONS: readonly LoginNodeVersion[] = ['current', 'pre-token'];

/** The JS files each version ships in its web directory (`js/`), which /extensions lists. */
const WEB_FILES: Record<LoginNodeVersion, string[]> = {
  current: ['freeMemory.js', 'guest-mode.js', 'loadImageIncognito.js', 'logout.js', 'upgrade-slotDefaults.js'],
  'pre-token': ['comfyui-password-logout.js'],
};

const MARKER = '.double-version';

/**
 * Installs the node folder as the image recipe would (`__init__.py`, `js/`, and for the current
 * version `old_css/`), or removes it (--no-login). Switching versions on one root rewrites it.
 */
export function installLoginNode(root: string, version: LoginNodeVersion | false): void {
  const dir = join(root, LOGIN_NODE_DIR);
  if (version === false) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const marker = join(dir, MARKER);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === version && existsSync(join(dir, '__init__.py'))) return;
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'js'), { recursive: true, force: true });
  rmSync(join(dir, 'old_css'), { recursive: true, force: true });
  mkdirSync(join(dir, 'js'));
  writeFileSync(join(dir, '__init__.py'), `# ComfyUI-Login (test double, ${version === 'current' ? '69109257f4' : '7ef55034'})\n`);
  for (const f of WEB_FILES[version]) writeFileSync(join(dir, 'js', f), `// ComfyUI-Login ${f} (test double stand-in)\n`);
  if (version === 'current') {
    mkdirSync(join(dir, 'old_css'));
    writeFileSync(join(dir, 'old_css', 'style.css'), '/* ComfyUI-Login old_css/style.css (test double stand-in) */\n');
  }
  writeFileSync(marker, version);
}

export function loginNodeInstalled(root: string): boolean {
  return existsSync(join(root, LOGIN_NODE_DIR, '__init__.py'));
}

export function installedLoginVersion(root: string): LoginNodeVersion | undefined {
  if (!loginNodeInstalled(root)) return undefined;
  const marker = join(root, LOGIN_NODE_DIR, MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8') === 'pre-token' ? 'pre-token' : 'current';
}

/** Thrown where the Python node raises while handling a request (e.g. a malformed header): aiohttp turns it into a 500. */
export class NodeCrash extends Error {}

/** A Python exception during the node's import: ComfyUI logs the traceback and the node is "IMPORT FAILED". */
export class ImportFailure extends Error {
  constructor(
    readonly pyType: string,
    readonly text: string,
    /** The frames inside the node, innermost last: [file, line, function, source line]. */
    readonly frames: [string, number, string, string][],
  ) {
    super(`${pyType}: ${text}`);
  }
}

export interface LoginNodeOptions {
  version?: LoginNodeVersion;
  /** Reproduce the import failure seen with Debian's Cryptodome: `No module named 'Crypto'`. */
  importFailed?: boolean;
  /** ComfyUI's --enable-cors-header value: the node only checks tokens when the request's Origin equals it (or it is '*'). */
  corsOrigin?: string;
}

/** What the import left behind; an import that failed part-way leaves what it set up before the failing line. */
export interface LoginNode {
  version: LoginNodeVersion;
  /** The module imported completely: its web directory and node classes are registered. */
  imported: boolean;
  /** aiohttp_session.setup ran: the session middleware is in the app. */
  sessions?: Sessions;
  /** The node's routes (/login, /logout, ...), once registered. */
  routes?: (req: Req) => Promise<Reply | undefined>;
  /** The check_login_status middleware, once appended: undefined lets the request through. */
  middleware?: (req: Req) => Reply | undefined;
}

const BCRYPT = /^\$(2[abxy]?)\$(\d\d)\$[./A-Za-z0-9]{22}/;

/**
 * python-bcrypt's checkpw(password, stored): the salt is parsed from `stored` (ValueError
 * "Invalid salt" if it cannot be) and the result must equal all of `stored`, so a file with
 * more than the hash (the pre-token node reads the whole file) never matches.
 */
function checkpw(password: string, stored: string): boolean {
  if (stored.split('$').filter(Boolean).length !== 3 || !BCRYPT.test(stored)) throw new NodeCrash('ValueError: Invalid salt');
  return stored.length === 60 && bcrypt.compareSync(password, stored);
}

const ISO = /^\d{4}-\d\d-\d\d([T ]\d\d(:\d\d(:\d\d(\.\d{1,6})?)?)?)?(?<tz>Z|[+-]\d\d(:?\d\d)?)?$/;
const KEY_AGE_LIMIT_MS = 30 * 24 * 3600 * 1000;

/** datetime.now().isoformat(): local time, microseconds unless zero. */
function localIsoNow(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return d.getMilliseconds() ? `${base}.${p(d.getMilliseconds() * 1000, 6)}` : base;
}

const PASSWORD_PY = (root: string) => join(root, LOGIN_NODE_DIR, 'password.py');

/**
 * get_or_refresh_key(): reads `<key>,<timestamp>` from `.secret-key.txt`, writing a fresh key
 * (with the process umask, as Python's open() does) when the file is missing or older than 30
 * days. A file that does not split into exactly two fields or whose timestamp does not parse
 * makes the whole import fail, as in Python.
 */
function sessionKey(root: string): string {
  const path = join(root, LOGIN_NODE_DIR, '.secret-key.txt');
  const frames = (line: number, fn: string, code: string): [string, number, string, string][] => [
    [PASSWORD_PY(root), 77, '<module>', 'secret_key = get_or_refresh_key()'],
    [PASSWORD_PY(root), 62, 'get_or_refresh_key', 'key, timestamp = read_key_from_file()'],
    [PASSWORD_PY(root), line, fn, code],
  ];
  let key: string | undefined;
  let stamp: Date | undefined;
  if (existsSync(path)) {
    const parts = readFileSync(path, 'utf8').split(',');
    if (parts.length !== 2) {
      throw new ImportFailure('ValueError', parts.length < 2 ? 'not enough values to unpack (expected 2, got 1)' : 'too many values to unpack (expected 2)', frames(53, 'read_key_from_file', "key, timestamp = file.read().split(',')"));
    }
    const [k, ts] = parts as [string, string];
    const m = ISO.exec(ts);
    if (!m) throw new ImportFailure('ValueError', `Invalid isoformat string: '${ts}'`, frames(54, 'read_key_from_file', 'return key, datetime.fromisoformat(timestamp)'));
    if (m.groups?.tz) throw new ImportFailure('TypeError', "can't subtract offset-naive and offset-aware datetimes", frames(60, 'key_is_old', 'return datetime.now() - timestamp > KEY_AGE_LIMIT'));
    key = k;
    stamp = new Date(ts.replace(' ', 'T'));
  }
  if (key === undefined || stamp === undefined || Date.now() - stamp.getTime() > KEY_AGE_LIMIT_MS) {
    key = `${randomBytes(32).toString('base64url')}=`;
    try {
      writeFileSync(path, `${key},${localIsoNow()}`);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ImportFailure(err.code === 'EACCES' ? 'PermissionError' : 'OSError', `[Errno ${-(err.errno ?? 13)}] ${err.code === 'EACCES' ? 'Permission denied' : err.message}: '${path}'`, frames(48, 'write_key_to_file', "with open(secret_key_path, 'w') as file:"));
    }
  }
  return key;
}

function loginPage(opts: { firstTime: boolean; username: string | null; wrong: boolean; promptForUsername: boolean; guestMode: boolean }): string {
  const askUsername = opts.firstTime || opts.promptForUsername;
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>ComfyUI Login</title><link rel="stylesheet" type="text/css" href="./old_css/style.css" /></head>
<body>
<div id="feedback">
${opts.wrong ? '<p>Wrong Password.</p>\n' : ''}${opts.promptForUsername ? '<p>Please also set a username.</p>\n' : ''}${opts.firstTime ? '<p>Welcome! For your first login, please enter a new username and password.</p>' : `<p>Welcome back, ${opts.username ?? ''}!</p>`}
</div>
<form action="/login" method="post" id="form_login">
<input type="hidden" id="guest_mode" name="guest_mode">
${askUsername ? '<label>Username:</label><input type="text" id="username" name="username" placeholder="Enter username" required><br>\n' : ''}<label>Password:</label><input type="password" id="password" name="password" placeholder="Enter password" required>
<input type="submit" value="Login">${opts.guestMode ? '\n<button type="button" id="guest">Guest Mode</button>' : ''}
</form>
</body>
</html>
`;
}

const PRE_TOKEN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>ComfyUI Login</title></head>
<body>
<form action="/login" method="post">
<input type="password" name="password" placeholder="Password" required>
<input type="submit" value="Login">
</form>
</body>
</html>
`;

const html = (body: string): Reply => ({ status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body });

/** The allowlist both versions check first: these paths never need a login. */
function skipsAuth(version: LoginNodeVersion, path: string): boolean {
  if (path === '/login' || path.endsWith('.css') || path.endsWith('.js')) return true;
  return version === 'current' && (path.endsWith('.css.map') || path.endsWith('.ico'));
}

/** The newest ComfyUI-Login (69109257f4): tokens, guest mode, login/PASSWORD. */
function loadCurrent(root: string, opts: LoginNodeOptions, log: (line: string) => void, node: LoginNode): void {
  const loginDir = join(root, 'login');
  const passwordPath = join(loginDir, 'PASSWORD');
  const guestPath = join(loginDir, 'GUEST_MODE');
  const sessions = setupSessions(root, log);
  node.sessions = sessions;

  // get_user_data(): read once, then cached for the life of the process.
  let cache: { username: string | null; password: string } | undefined;
  const userData = (): { username: string | null; password: string | null } => {
    if (cache) return cache;
    if (!existsSync(passwordPath)) return { username: null, password: null };
    const [password = '', name] = readFileSync(passwordPath, 'utf8').split('\n');
    cache = { password, username: name?.trim() ? name.trim() : null };
    return cache;
  };

  node.routes = async (req) => {
    const s = () => sessions.get(req);
    if (req.route === '/login' && req.method === 'GET') {
      if (s().get('logged_in')) return raisedRedirect('/');
      const firstTime = !existsSync(passwordPath);
      const username = firstTime ? null : userData().username;
      return html(loginPage({ firstTime, username, wrong: (req.url.searchParams.get('wrong_password') ?? '') !== '', promptForUsername: !firstTime && username === null, guestMode: existsSync(guestPath) }));
    }
    if (req.route === '/login' && req.method === 'POST') {
      const form = await formFields(req);
      const username = form.get('username');
      const password = form.get('password');
      // data.get('password').encode(): a missing field (or a JSON body) raises.
      if (password === undefined) throw new NodeCrash("AttributeError: 'NoneType' object has no attribute 'encode'");
      if (form.get('guest_mode') === '1' && existsSync(guestPath)) {
        s().set('guest_mode', true);
        return redirect('/');
      }
      if (existsSync(passwordPath)) {
        const user = userData();
        if (!user.password || !checkpw(password, user.password)) return redirect('/login?wrong_password=1');
        s().set('logged_in', true);
        if (user.username) {
          s().set('username', user.username);
        } else {
          // A PASSWORD without a user name line gets the one typed now.
          if (username === undefined) throw new NodeCrash("AttributeError: 'NoneType' object has no attribute 'encode'");
          writeFileSync(passwordPath, `${user.password}\n${username}`);
          cache = { password: user.password, username };
          s().set('username', username);
        }
        return redirect('/');
      }
      // No PASSWORD: the first visitor sets it (bcrypt, default cost 12).
      if (username === undefined) throw new NodeCrash("AttributeError: 'NoneType' object has no attribute 'encode'");
      const hash = bcrypt.hashSync(password, 12);
      writeFileSync(passwordPath, `${hash}\n${username}`);
      cache = { password: hash, username };
      s().set('logged_in', true);
      s().set('username', username);
      return redirect('/');
    }
    if (req.route === '/logout' && req.method === 'GET') {
      s().set('logged_in', false);
      s().set('guest_mode', false);
      s().pop('username');
      s().pop('guest_mode');
      return redirect('/login');
    }
    if (req.route === '/guest_mode' && req.method === 'GET') return json({ guestMode: s().get('guest_mode') === true });
    return undefined;
  };

  if (!existsSync(loginDir)) {
    log('Password directory does not exists, creating...');
    mkdirSync(loginDir, { recursive: true });
  }
  // Backward compatibility: a PASSWORD at the ComfyUI root (pre-token layout) moves into login/.
  if (existsSync(join(root, 'PASSWORD'))) renameSync(join(root, 'PASSWORD'), passwordPath);

  let token = '';
  const loadToken = () => {
    try {
      token = readFileSync(passwordPath, 'utf8').split('\n')[0]!.trim();
      log(`For direct API calls, use token=${token}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      log('Please set up your password before use. The token will be a hashed string derived from your password.');
      token = '';
    }
  };
  try {
    loadToken();
  } catch (e) {
    throw new ImportFailure('PermissionError', `[Errno 13] Permission denied: '${passwordPath}'`, [[PASSWORD_PY(root), 203, '<module>', 'load_token()'], [PASSWORD_PY(root), 186, 'load_token', 'with open(password_path, "r", encoding="utf-8") as f:']]);
  }

  const tokensChecked = (req: Req) => opts.corsOrigin === undefined || opts.corsOrigin === '*' || opts.corsOrigin === req.raw.headers.origin;
  node.middleware = (req) => {
    const path = req.path;
    if (skipsAuth('current', path)) return undefined;
    if (token === '') loadToken();
    const session = sessions.get(req);
    if (session.get('logged_in')) return undefined;
    if (session.get('guest_mode')) {
      if (req.method === 'GET') return undefined;
      if (req.method === 'POST' && (path === '/prompt' || path === '/upload/image')) return undefined;
      return json({});
    }
    if (tokensChecked(req)) {
      const header = req.raw.headers.authorization;
      if (header) {
        const words = header.split(/\s+/).filter(Boolean);
        // The node unpacks header.split() into exactly two names; anything else raises.
        if (words.length !== 2) throw new NodeCrash(words.length < 2 ? `ValueError: not enough values to unpack (expected 2, got ${words.length})` : 'ValueError: too many values to unpack (expected 2)');
        if (words[0] === 'Bearer' && words[1] === token) return undefined;
      }
      // request.query.get("token") == TOKEN: with no PASSWORD the token is "", so an empty ?token= passes.
      if (req.url.searchParams.get('token') === token) return undefined;
    }
    if ((req.raw.headers.accept ?? '').includes('text/html')) return raisedRedirect('/login');
    return json({ error: 'Authentication required.' }, 401);
  };
  node.imported = true;
}

/** ComfyUI-Login 7ef55034 (2024-04-06): `<root>/PASSWORD` holds only a hash, no tokens, every other request is sent to /login. */
function loadPreToken(root: string, log: (line: string) => void, node: LoginNode): void {
  const passwordPath = join(root, 'PASSWORD');
  const sessions = setupSessions(root, log);
  node.sessions = sessions;
  node.routes = async (req) => {
    const s = () => sessions.get(req);
    if (req.route === '/login' && req.method === 'GET') {
      if (s().get('logged_in')) return raisedRedirect('/');
      return { status: 200, headers: { 'Content-Type': 'text/html' }, body: PRE_TOKEN_PAGE };
    }
    if (req.route === '/login' && req.method === 'POST') {
      const password = (await formFields(req)).get('password');
      if (password === undefined) throw new NodeCrash("AttributeError: 'NoneType' object has no attribute 'encode'");
      if (existsSync(passwordPath)) {
        // The whole file is the hash: a recipe-style "hash\nuser" file never matches.
        if (!checkpw(password, readFileSync(passwordPath, 'utf8'))) return redirect('/login?feedback=Wrong+password');
        s().set('logged_in', true);
        return redirect('/');
      }
      writeFileSync(passwordPath, bcrypt.hashSync(password, 12));
      s().set('logged_in', true);
      return redirect('/');
    }
    if (req.route === '/logout' && req.method === 'GET') {
      s().set('logged_in', false);
      return redirect('/login');
    }
    return undefined;
  };
  node.middleware = (req) => {
    if (skipsAuth('pre-token', req.path)) return undefined;
    if (sessions.get(req).get('logged_in')) return undefined;
    return raisedRedirect('/login');
  };
  node.imported = true;
}

/** setup(app, EncryptedCookieStorage(get_or_refresh_key())): a key Fernet rejects fails the import. */
function setupSessions(root: string, log: (line: string) => void): Sessions {
  const key = sessionKey(root);
  try {
    return new Sessions(key, log);
  } catch (e) {
    throw new ImportFailure('ValueError', (e as Error).message, [
      [PASSWORD_PY(root), 78, '<module>', 'setup(app, EncryptedCookieStorage(secret_key))'],
      ['/usr/local/lib/python3.12/site-packages/aiohttp_session/cookie_storage.py', 50, '__init__', 'self._fernet = fernet.Fernet(secret_key)'],
      ['/usr/local/lib/python3.12/site-packages/cryptography/fernet.py', 39, '__init__', 'raise ValueError('],
    ]);
  }
}

/** The traceback ComfyUI logs for a custom node whose import raised, then its one-line summary. */
export function importFailedLog(root: string, failure: ImportFailure): string[] {
  const dir = join(root, LOGIN_NODE_DIR);
  const frames = [
    `  File "${join(root, 'nodes.py')}", line 2133, in load_custom_node\n    module_spec.loader.exec_module(module)`,
    '  File "<frozen importlib._bootstrap_external>", line 999, in exec_module',
    '  File "<frozen importlib._bootstrap>", line 488, in _call_with_frames_removed',
    ...failure.frames.map(([file, line, fn, code]) => `  File "${file}", line ${line}, in ${fn}\n    ${code}`),
  ];
  return ['Traceback (most recent call last):', ...frames, `${failure.pyType}: ${failure.text}`, '', `Cannot import ${dir} module for custom nodes: ${failure.text}`];
}

/**
 * ComfyUI importing the installed ComfyUI-Login: returns what the import set up, or the
 * ImportFailure it raised (what it had set up before stays in place, as in Python).
 */
export function importLoginNode(root: string, opts: LoginNodeOptions, log: (line: string) => void): { node: LoginNode; failure?: ImportFailure } {
  const version = opts.version ?? 'current';
  const node: LoginNode = { version, imported: false };
  if (opts.importFailed && version === 'current') {
    // __init__.py imports load_image_incognito first, which needs pycryptodome's `Crypto`.
    const failure = new ImportFailure('ModuleNotFoundError', "No module named 'Crypto'", [
      [join(root, LOGIN_NODE_DIR, '__init__.py'), 2, '<module>', 'from .load_image_incognito import *'],
      [join(root, LOGIN_NODE_DIR, 'load_image_incognito.py'), 9, '<module>', 'from Crypto.Cipher import AES'],
    ]);
    return { node, failure };
  }
  if (opts.importFailed) {
    // The pre-token node imports nothing optional; its one fragile import is aiohttp_session's crypto.
    const failure = new ImportFailure('ModuleNotFoundError', "No module named 'cryptography'", [[join(root, LOGIN_NODE_DIR, '__init__.py'), 4, '<module>', 'from aiohttp_session.cookie_storage import EncryptedCookieStorage']]);
    return { node, failure };
  }
  try {
    if (version === 'current') loadCurrent(root, opts, log, node);
    else loadPreToken(root, log, node);
    return { node };
  } catch (e) {
    if (e instanceof ImportFailure) return { node, failure: e };
    throw e;
  }
}
