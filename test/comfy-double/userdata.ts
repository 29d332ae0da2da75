import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { empty, fileResponse, json, unquote, type Reply, type Req } from './http-kit.js';

/** The user ComfyUI serves without --multi-user. */
const USER = 'default';

/** UserManager at start: creates `user/` (with ComfyUI's two warnings) the first time. */
export function initUserDirectory(root: string, log: (line: string) => void): void {
  const dir = join(root, 'user');
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  log('****** User settings have been changed to be stored on the server instead of browser storage. ******');
  log('****** For multi-user setups add the --multi-user CLI argument to enable multiple user profiles. ******');
}

/**
 * get_request_user_filepath: `user/default/<file>` (a "%" in the name is unquoted once more),
 * undefined when it would leave `user/default/`. Creates the parent folder, as ComfyUI does.
 */
function userPath(root: string, file: string | undefined, createDir = true): string | undefined {
  const userRoot = resolve(root, 'user', USER);
  let path = userRoot;
  if (file !== undefined) {
    const name = file.includes('%') ? unquote(file) : file;
    path = resolve(userRoot, name);
    if (path !== userRoot && !path.startsWith(userRoot + sep)) return undefined;
  }
  if (createDir && !existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true });
  return path;
}

const text = (status: number, body: string): Reply => ({ status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body });

function listFiles(dir: string, recurse: boolean): string[] {
  return readdirSync(dir, { recursive: recurse, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/**
 * The user manager's routes under `/userdata` (and `/api/userdata`): the front end keeps
 * settings, workflows and `user.css` there. ComfyUI-Login lets any path ending in .js/.css
 * through without a login, so anonymous writes of such files land (see the README).
 */
export function userdataRoute(root: string, req: Req): Reply | undefined {
  const m = /^\/userdata\/([^/]+)$/.exec(req.route);
  if (m) {
    // aiohttp decodes the {file} segment (so %2F becomes a subfolder separator).
    const file = unquote(m[1]!);
    const path = userPath(root, file);
    if (path === undefined) return empty(403);
    if (req.method === 'GET' || req.method === 'HEAD') return existsSync(path) ? fileResponse(path) : empty(404);
    if (req.method === 'DELETE') {
      if (!existsSync(path)) return empty(404);
      rmSync(path);
      return empty(204);
    }
    if (req.method === 'POST') {
      if (req.url.searchParams.get('overwrite') === 'false' && existsSync(path)) return text(409, 'File already exists');
      try {
        writeFileSync(path, req.body);
      } catch {
        return { status: 400, headers: { 'Content-Type': 'application/octet-stream' }, body: '' };
      }
      const userRoot = userPath(root, undefined)!;
      if ((req.url.searchParams.get('full_info') ?? 'false').toLowerCase() === 'true') {
        const st = statSync(path);
        return json({ path: relative(userRoot, path).split(sep).join('/'), size: st.size, modified: st.mtimeMs / 1000, created: st.ctimeMs / 1000 });
      }
      return json(relative(userRoot, path));
    }
    return undefined;
  }
  if (req.route === '/userdata' && (req.method === 'GET' || req.method === 'HEAD')) {
    const dir = req.url.searchParams.get('dir') ?? '';
    if (!dir) return text(400, 'Directory not provided');
    const path = userPath(root, dir);
    if (path === undefined) return text(403, 'Invalid directory');
    if (!existsSync(path)) return text(404, 'Directory not found');
    const q = (k: string) => (req.url.searchParams.get(k) ?? '').toLowerCase() === 'true';
    return json(
      listFiles(path, q('recurse')).map((f) => {
        const rel = relative(path, f).split(sep).join('/');
        if (q('full_info')) {
          const st = statSync(f);
          return { path: rel, size: st.size, modified: st.mtimeMs / 1000, created: st.ctimeMs / 1000 };
        }
        return q('split') ? [rel, ...rel.split('/')] : rel;
      }),
    );
  }
  if (req.route === '/users' && (req.method === 'GET' || req.method === 'HEAD')) {
    return json({ storage: 'server', migrated: existsSync(userPath(root, undefined, false)!) });
  }
  if (req.route === '/settings' && (req.method === 'GET' || req.method === 'HEAD')) {
    const file = join(root, 'user', USER, 'comfy.settings.json');
    return json(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : {});
  }
  return undefined;
}

/** The methods each user-manager path answers, for aiohttp's 405 Allow header. */
export function userdataMethods(route: string): string[] {
  if (/^\/userdata\/[^/]+$/.test(route)) return ['DELETE', 'GET', 'HEAD', 'POST'];
  if (route === '/userdata' || route === '/settings') return ['GET', 'HEAD', ...(route === '/settings' ? ['POST'] : [])];
  if (route === '/users') return ['GET', 'HEAD', 'POST'];
  return [];
}
