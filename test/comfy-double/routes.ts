import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Executor } from './executor.js';
import { empty, httpError, json, jsonBody, type Reply, type Req } from './http-kit.js';
import { MODEL_FOLDERS, modelFiles, NODE_CLASSES, objectInfo } from './nodes.js';
import { encodePng } from './png.js';
import { SERVER_FEATURES } from './ws-hub.js';

export interface RouteContext {
  root: string;
  executor: Executor;
  systemStats: () => unknown;
}

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="UTF-8"><title>ComfyUI</title><link rel="icon" href="/favicon.ico"><link rel="stylesheet" href="/assets/index.css"><script type="module" src="/assets/index.js"></script></head>
<body class="litegraph grid"><div id="vue-app"></div></body>
</html>
`;

/** The frontend's static files: served without auth by the login node (*.js, *.css, *.ico). */
const STATIC: Record<string, { type: string; body: Buffer | string }> = {
  '/favicon.ico': { type: 'image/x-icon', body: encodePng(1, 1, () => [40, 40, 40]) },
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
  const type_ = file.endsWith('.png') ? 'image/png' : file.endsWith('.webp') ? 'image/webp' : file.endsWith('.jpg') || file.endsWith('.jpeg') ? 'image/jpeg' : 'application/octet-stream';
  return { status: 200, headers: { 'Content-Type': type_, 'Content-Disposition': `filename="${basename(filename)}"` }, body: readFileSync(file) };
}

function objectBody(req: Req): Record<string, unknown> {
  const body = jsonBody(req);
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

/** PromptServer's own routes (each also under /api). Undefined means no such route (404). */
export function coreRoutes(ctx: RouteContext): (req: Req) => Promise<Reply | 'upgraded' | undefined> {
  const { root, executor } = ctx;
  const get: Record<string, (req: Req) => Reply | 'upgraded'> = {
    '/': () => ({ status: 200, headers: { 'Content-Type': 'text/html', 'Cache-Control': 'no-cache' }, body: INDEX_HTML }),
    '/ws': (req) => {
      if (!req.upgrade) return { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".' };
      req.upgrade();
      return 'upgraded';
    },
    '/system_stats': () => json(ctx.systemStats()),
    '/features': () => json(SERVER_FEATURES),
    '/embeddings': () => json([]),
    '/extensions': () => json([]),
    '/models': () => json(Object.keys(MODEL_FOLDERS)),
    '/prompt': () => json(executor.queueInfo()),
    '/queue': () => json(executor.queue()),
    '/history': (req) => {
      const max = req.url.searchParams.get('max_items');
      return json(executor.getHistory(undefined, max === null ? undefined : Number(max)));
    },
    '/object_info': () => json(Object.fromEntries(Object.entries(NODE_CLASSES).map(([name, cls]) => [name, objectInfo(name, cls, root)]))),
    '/view': (req) => view(root, req.url.searchParams),
  };
  const post: Record<string, (req: Req) => Reply> = {
    '/prompt': (req) => {
      const r = executor.submit(objectBody(req));
      return json(r.body, r.status);
    },
    '/interrupt': (req) => {
      let body: Record<string, unknown> = {};
      try {
        body = objectBody(req);
      } catch {
        // ComfyUI treats an unreadable body as a global interrupt.
      }
      executor.interrupt(typeof body.prompt_id === 'string' ? body.prompt_id : undefined);
      return empty(200);
    },
    '/free': (req) => {
      if (objectBody(req).free_memory) executor.freeMemory();
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

  return async (req) => {
    const r = req.route;
    const staticFile = STATIC[req.url.pathname];
    if (staticFile && req.method === 'GET') return { status: 200, headers: { 'Content-Type': staticFile.type }, body: staticFile.body };
    const param = /^\/(history|object_info|models)\/(.+)$/.exec(r);
    if (param && req.method === 'GET') {
      const [, what, arg] = param as unknown as [string, string, string];
      const key = decodeURIComponent(arg);
      if (what === 'history') return json(executor.getHistory(key));
      if (what === 'models') return key in MODEL_FOLDERS ? json(modelFiles(root, key as keyof typeof MODEL_FOLDERS)) : empty(404);
      const cls = NODE_CLASSES[key];
      return json(cls ? { [key]: objectInfo(key, cls, root) } : {});
    }
    const handler = req.method === 'GET' || req.method === 'HEAD' ? get[r] : req.method === 'POST' ? post[r] : undefined;
    if (handler) return handler(req);
    if (get[r] || post[r]) return httpError(405, { Allow: [get[r] && 'GET,HEAD', post[r] && 'POST'].filter(Boolean).join(',') });
    return undefined;
  };
}
