import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Executor } from './executor.js';
import { empty, fileResponse, httpError, json, jsonBody, unquote, type Reply, type Req } from './http-kit.js';
import { MODEL_FOLDERS, modelFiles, type NodeRegistry } from './nodes.js';
import { pyBool, type PyValue } from './pyjson.js';
import { userdataMethods, userdataRoute } from './userdata.js';
import { SERVER_FEATURES } from './ws-hub.js';

export interface RouteContext {
  root: string;
  executor: Executor;
  nodes: NodeRegistry;
  systemStats: () => unknown;
  /** /extensions/<name> static folders of the custom nodes that imported. */
  extensionDirs: () => Record<string, string>;
  /** Static folders custom nodes added themselves (ComfyUI-Login's /old_css/), by URL prefix. */
  nodeStaticDirs: () => Record<string, string>;
  /** Methods custom-node routes answer for a path (ComfyUI-Login's /login, /logout), for the 405 Allow header. */
  nodeRouteMethods: (route: string) => string[];
}

/**
 * The double's front end: an index page and its two assets, and no favicon.ico (so
 * /favicon.ico is 404, as on the measured server).
 */
const WEB_ROOT: Record<string, { type: string; body: string }> = {
  '/index.html': {
    type: 'text/html',
    body: `<!doctype html>
<html lang="en">
<head><meta charset="UTF-8"><title>ComfyUI</title><link rel="stylesheet" href="/assets/index.css"><script type="module" src="/assets/index.js"></script></head>
<body class="litegraph grid"><div id="vue-app"></div></body>
</html>
`,
  },
  '/assets/index.js': { type: 'text/javascript', body: 'console.log("ComfyUI frontend (double)");\n' },
  '/assets/index.css': { type: 'text/css', body: 'body { background: #202020; }\n' },
};

const DIRECTORIES = { output: 'output', input: 'input', temp: 'temp' } as const;

/** GET /view as ComfyUI serves it: 400 on path tricks, 403 outside the folder, 404 (empty) when missing. */
function view(root: string, q: URLSearchParams): Reply {
  const filename = q.get('filename');
  if (filename === null) return empty(404);
  if (!filename || filename.startsWith('/') || filename.includes('..')) return empty(400);
  const type = (q.get('type') ?? 'output') as keyof typeof DIRECTORIES;
  if (!(type in DIRECTORIES)) return empty(400);
  let dir = resolve(root, DIRECTORIES[type]);
  const subfolder = q.get('subfolder');
  if (subfolder !== null) {
    const full = resolve(dir, subfolder);
    if (relative(dir, full).startsWith('..')) return empty(403);
    dir = full;
  }
  const file = join(dir, basename(filename));
  if (!existsSync(file) || !statSync(file).isFile()) return empty(404);
  const guessed = file.endsWith('.png') ? 'image/png' : file.endsWith('.webp') ? 'image/webp' : file.endsWith('.jpg') || file.endsWith('.jpeg') ? 'image/jpeg' : 'application/octet-stream';
  return fileResponse(file, { 'Content-Disposition': `filename="${basename(filename)}"`, 'Content-Type': guessed });
}

function objectBody(req: Req): Record<string, PyValue> {
  const body = jsonBody(req);
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, PyValue>) : {};
}

/** A static folder as aiohttp's add_static serves it: files only, no listing, nothing outside the folder. */
function serveDir(dir: string, rest: string): Reply {
  const full = resolve(dir, unquote(rest));
  if (full !== dir && !full.startsWith(dir + sep)) return { ...httpError(403), raised: true };
  if (!existsSync(full)) return { ...httpError(404), raised: true };
  if (!statSync(full).isFile()) return { ...httpError(403), raised: true };
  return fileResponse(full);
}

type Handler = (req: Req) => Reply | 'upgraded';

/**
 * PromptServer's routes (each also under /api) and aiohttp's router around them: a path with
 * no handler for the method is 405 (Allow lists the methods, GET and HEAD always among them,
 * since the web root's static route takes every path), except GET/HEAD, which fall through to
 * the web root and answer 404 there (so `GET /free` is 404, not 405).
 */
export function coreRoutes(ctx: RouteContext): (req: Req) => Promise<Reply | 'upgraded'> {
  const { root, executor, nodes } = ctx;
  const get: Record<string, Handler> = {
    '/': () => ({ status: 200, headers: { 'Content-Type': 'text/html', 'Cache-Control': 'no-cache', Pragma: 'no-cache', Expires: '0' }, body: WEB_ROOT['/index.html']!.body }),
    '/ws': (req) => {
      if (!req.upgrade) return { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".' };
      req.upgrade();
      return 'upgraded';
    },
    '/system_stats': () => json(ctx.systemStats()),
    '/features': () => json(SERVER_FEATURES),
    '/embeddings': () => json([]),
    '/extensions': () => json(Object.entries(ctx.extensionDirs()).flatMap(([name, dir]) => listJs(dir).map((f) => `/extensions/${encodeURIComponent(name)}/${f}`))),
    '/models': () => json(Object.keys(MODEL_FOLDERS)),
    '/prompt': () => json(executor.queueInfo()),
    '/queue': () => json(executor.queue()),
    '/history': (req) => {
      const max = req.url.searchParams.get('max_items');
      if (max !== null && !/^\s*[+-]?\d+\s*$/.test(max)) return { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'max_items must be an integer' };
      return json(executor.getHistory(undefined, max === null ? undefined : Number(max)));
    },
    '/object_info': () => json(Object.fromEntries(nodes.names().map((n) => [n, nodes.info(n)]))),
    '/view': (req) => view(root, req.url.searchParams),
  };
  const post: Record<string, (req: Req) => Reply> = {
    '/prompt': (req) => {
      const r = executor.submit(jsonBody(req));
      return json(r.body, r.status);
    },
    '/interrupt': (req) => {
      let body: Record<string, PyValue> = {};
      try {
        body = objectBody(req);
      } catch {
        // ComfyUI treats an unreadable body as a global interrupt.
      }
      executor.interrupt(typeof body.prompt_id === 'string' && body.prompt_id ? body.prompt_id : undefined);
      return empty(200);
    },
    '/free': (req) => {
      if (pyBool(objectBody(req).free_memory)) executor.freeMemory();
      return empty(200);
    },
    '/queue': (req) => {
      executor.editQueue(objectBody(req));
      return empty(200);
    },
    '/history': (req) => {
      executor.editHistory(objectBody(req));
      return empty(200);
    },
  };

  /** The /{kind}/{arg} routes: GET only. */
  function param(req: Req): Reply | undefined {
    const m = /^\/(history|object_info|models)\/([^/]+)$/.exec(req.route);
    if (!m) return undefined;
    const key = unquote(m[2]!);
    if (m[1] === 'history') return json(executor.getHistory(key));
    if (m[1] === 'models') return key in MODEL_FOLDERS ? json(modelFiles(root, key as keyof typeof MODEL_FOLDERS)) : empty(404);
    return json(nodes.has(key) ? { [key]: nodes.info(key) } : {});
  }

  /** The methods any route answers for this path (aiohttp collects them for 405). */
  function methodsFor(req: Req): string[] {
    const r = req.route;
    const m: string[] = [...userdataMethods(r), ...ctx.nodeRouteMethods(r)];
    if (get[r]) m.push('GET', 'HEAD');
    if (post[r]) m.push('POST');
    if (/^\/(history|object_info|models)\/[^/]+$/.test(r)) m.push('GET', 'HEAD');
    return m;
  }

  /** The static routes, in the order ComfyUI adds them: each extension folder, then the web root. */
  function staticFile(req: Req): Reply {
    const dirs = { ...ctx.nodeStaticDirs(), ...Object.fromEntries(Object.entries(ctx.extensionDirs()).map(([n, d]) => [`/extensions/${n}/`, d])) };
    for (const [prefix, dir] of Object.entries(dirs)) {
      if (req.url.pathname.startsWith(prefix)) return serveDir(dir, req.url.pathname.slice(prefix.length));
    }
    const file = WEB_ROOT[req.url.pathname];
    if (file) return { status: 200, headers: { 'Content-Type': file.type, 'Accept-Ranges': 'bytes' }, body: file.body };
    return { ...httpError(404), raised: true };
  }

  return async (req) => {
    const isGet = req.method === 'GET' || req.method === 'HEAD';
    const userdata = userdataRoute(root, req);
    if (userdata) return userdata;
    if (isGet) {
      const handler = get[req.route];
      if (handler) return handler(req);
      return param(req) ?? staticFile(req);
    }
    if (req.method === 'POST' && post[req.route]) return post[req.route]!(req);
    // Every path also matches the web root's static route, which allows GET and HEAD.
    const allow = [...new Set([...methodsFor(req), 'GET', 'HEAD'])].sort().join(',');
    return { ...httpError(405, { Allow: allow }), raised: true };
  };
}

function listJs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirRecursive(dir).filter((f) => f.endsWith('.js'));
}

function readdirRecursive(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}
