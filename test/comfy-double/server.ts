/**
 * A ComfyUI 0.3.64 double with the ComfyUI-Login node, faithful to
 * /work/shared/reference/comfyui-login-behaviour.md case for case. Test code: every suite that
 * needs "a ComfyUI" (container control, token rotation, client, health, e2e) runs against it.
 *
 *   const comfy = await startComfyDouble({ dir, port: 0 });   // dir plays the ComfyUI root
 *   fetch(`${comfy.url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } });
 *   await comfy.close();
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { freemem, totalmem } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join, resolve } from 'node:path';
import { Executor } from './executor.js';
import { empty, internalError, unquote, type Reply, type Req } from './http-kit.js';
import { importFailedLog, importLoginNode, installedLoginVersion, installLoginNode, LOGIN_NODE_DIR, NodeCrash, type LoginNodeVersion } from './login-node.js';
import { MODEL_FOLDERS, NodeRegistry } from './nodes.js';
import { PyJsonError } from './pyjson.js';
import { coreRoutes } from './routes.js';
import { initUserDirectory } from './userdata.js';
import { ValidationCrash } from './validate.js';
import { WsHub } from './ws-hub.js';

export const COMFYUI_VERSION = '0.3.64';
export const FRONTEND_VERSION = '1.27.10';
/** comfyui-workflow-templates as pinned by 0.3.64's requirements.txt, and installed from it. */
export const TEMPLATES_VERSION = '0.1.94';

export type { LoginNodeVersion } from './login-node.js';

export interface ComfyDoubleOptions {
  /** Plays the ComfyUI root: login/PASSWORD, output/, user/, models/<kind>/, custom_nodes/ComfyUI-Login. */
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Install and load ComfyUI-Login (default true); false removes the node folder: no auth. */
  login?: boolean;
  /** Which ComfyUI-Login is installed (default 'current', 69109257f4); 'pre-token' is 7ef55034. */
  loginNodeVersion?: LoginNodeVersion;
  /** The node is installed but its import fails (ModuleNotFoundError: Crypto): IMPORT FAILED in the log, no auth. */
  loginImportFailed?: boolean;
  /** ComfyUI's --enable-cors-header ORIGIN ('*' for the bare flag): CORS headers, no origin check, tokens only for that Origin. */
  corsOrigin?: string;
  /** How long a KSampler run takes in total (default 0). */
  samplerMs?: number;
  /** Receives every log line ComfyUI would print (startup, requests, prompts). */
  log?: (line: string) => void;
}

export interface ComfyDouble {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** ComfyUI's origin_only_middleware: on a loopback Host, a foreign Origin gets 403. */
function foreignOrigin(raw: IncomingMessage): boolean {
  const host = raw.headers.host;
  const origin = raw.headers.origin;
  if (!host || !origin) return false;
  let originUrl: URL;
  let hostUrl: URL;
  try {
    originUrl = new URL(origin);
    hostUrl = new URL(`http://${host}`);
  } catch {
    return false;
  }
  const hostname = hostUrl.hostname.replace(/^\[|\]$/g, '');
  const loopback = hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '::1';
  if (!loopback) return false;
  // Without a port on one side, compare host names only (ComfyUI does this for "weird browsers").
  const hostSide = originUrl.port === '' ? hostUrl.hostname : hostUrl.host;
  const originSide = hostUrl.port === '' ? originUrl.hostname : originUrl.host;
  return hostSide.toLowerCase() !== originSide.toLowerCase();
}

function accessLine(raw: IncomingMessage, status: number, bytes: number): string {
  const d = new Date();
  const mon = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const t = `${String(d.getUTCDate()).padStart(2, '0')}/${mon}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
  return `${raw.socket.remoteAddress ?? '-'} [${t}] "${raw.method} ${raw.url} HTTP/${raw.httpVersion}" ${status} ${bytes} "${raw.headers.referer ?? '-'}" "${raw.headers['user-agent'] ?? '-'}"`;
}

/** A bare install's own custom node file, which ComfyUI lists among the import times. */
const WS_SAVE_NODE = 'custom_nodes/websocket_image_save.py';

const CORS_HEADERS = (origin: string) => ({
  'Access-Control-Allow-Origin': origin,
  'Access-Control-Allow-Methods': 'POST, GET, DELETE, PUT, OPTIONS, PATCH',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization',
  'Access-Control-Allow-Credentials': 'true',
});

const IMAGE_SUFFIX = /\.(jpg|jpeg|png|ppm|bmp|pgm|tif|tiff|webp)$/i;

/** ComfyUI's cache_control middleware, on responses handlers return. */
function cacheControl(path: string, reply: Reply): Reply {
  const file = path.slice(path.lastIndexOf('/') + 1);
  let value: string | undefined;
  if (path.endsWith('.js') || path.endsWith('.css') || (file.startsWith('index') && file.endsWith('.json'))) value = 'no-cache';
  else if (IMAGE_SUFFIX.test(path)) {
    if (reply.status === 404) value = 'public, max-age=3600';
    else if ([200, 201, 202, 203, 204, 205, 206, 301, 308].includes(reply.status)) value = 'public, max-age=86400';
    else if ([302, 303, 307].includes(reply.status)) value = 'no-cache';
  }
  if (!value || reply.headers?.['Cache-Control'] !== undefined) return reply;
  return { ...reply, headers: { ...reply.headers, 'Cache-Control': value } };
}

export async function startComfyDouble(opts: ComfyDoubleOptions): Promise<ComfyDouble> {
  const root = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const sink = opts.log ?? (() => undefined);
  const log = (text: string) => text.split('\n').forEach((line) => sink(line));
  for (const d of ['output', 'input', 'temp', 'custom_nodes', ...Object.values(MODEL_FOLDERS).flat().map((f) => join('models', f))]) mkdirSync(join(root, d), { recursive: true });
  if (!existsSync(join(root, WS_SAVE_NODE))) writeFileSync(join(root, WS_SAVE_NODE), '# SaveImageWebsocket: a custom node every ComfyUI checkout ships (test double stand-in)\n');
  // An explicit version (re)installs the node; otherwise whatever is installed stays.
  if (opts.login === false) installLoginNode(root, false);
  else if (opts.loginNodeVersion || installedLoginVersion(root) === undefined) installLoginNode(root, opts.loginNodeVersion ?? 'current');
  const version = installedLoginVersion(root);

  log('Checkpoint files will always be loaded safely.');
  log(`Total VRAM ${Math.round(totalmem() / 2 ** 20)} MB, total RAM ${Math.round(totalmem() / 2 ** 20)} MB`);
  log('pytorch version: 2.8.0+cpu');
  log('Set vram state to: DISABLED');
  log('Device: cpu');
  log(`Python version: 3.12.3 (main, Aug 14 2025, 17:47:21) [GCC 13.3.0]`);
  log(`ComfyUI version: ${COMFYUI_VERSION}`);
  initUserDirectory(root, log);
  log(`ComfyUI frontend version: ${FRONTEND_VERSION}`);
  log('[Prompt Server] web root: /usr/local/lib/python3.12/site-packages/comfyui_frontend_package/static');

  const loaded = new Set(['websocket_image_save']);
  const imported = version ? importLoginNode(root, { version, importFailed: opts.loginImportFailed, corsOrigin: opts.corsOrigin }, log) : undefined;
  if (imported?.failure) {
    log(importFailedLog(root, imported.failure).join('\n'));
  } else if (imported) {
    loaded.add('ComfyUI-Login');
  }
  const login = imported?.node;
  log('');
  log('Import times for custom nodes:');
  log(`   0.0 seconds: ${join(root, WS_SAVE_NODE)}`);
  if (imported) log(`   0.0 seconds${imported.failure ? ' (IMPORT FAILED)' : ''}: ${join(root, LOGIN_NODE_DIR)}`);
  log('');
  log('Context impl SQLiteImpl.');
  log('Starting server');

  const nodes = new NodeRegistry(root, loaded);
  const hub = new WsHub();
  const executor = new Executor(root, nodes, opts.samplerMs ?? 0, hub, log);
  hub.executor = executor;
  let port = opts.port ?? 0;
  const argv = ['main.py', '--listen', host, '--port', String(port), '--cpu', ...(opts.corsOrigin === undefined ? [] : ['--enable-cors-header', opts.corsOrigin])];
  const nodeDir = join(root, LOGIN_NODE_DIR);
  const routes = coreRoutes({
    root,
    executor,
    nodes,
    systemStats: () => ({
      system: {
        os: 'posix',
        ram_total: totalmem(),
        ram_free: freemem(),
        comfyui_version: COMFYUI_VERSION,
        required_frontend_version: FRONTEND_VERSION,
        installed_templates_version: TEMPLATES_VERSION,
        required_templates_version: TEMPLATES_VERSION,
        python_version: '3.12.3 (main, Aug 14 2025, 17:47:21) [GCC 13.3.0]',
        pytorch_version: '2.8.0+cpu',
        embedded_python: false,
        argv,
      },
      devices: [{ name: 'cpu', type: 'cpu', index: null, vram_total: totalmem(), vram_free: freemem(), torch_vram_total: totalmem(), torch_vram_free: freemem() }],
    }),
    extensionDirs: (): Record<string, string> => (login?.imported ? { 'ComfyUI-Login': join(nodeDir, 'js') } : {}),
    nodeStaticDirs: (): Record<string, string> => (login?.imported && login.version === 'current' ? { '/old_css/': join(nodeDir, 'old_css') } : {}),
    nodeRouteMethods: (route) => {
      if (!login?.routes) return [];
      if (route === '/login') return ['GET', 'HEAD', 'POST'];
      if (route === '/logout' || (route === '/guest_mode' && login.version === 'current')) return ['GET', 'HEAD'];
      return [];
    },
  });

  const warnedDeprecated = new Set<string>();
  const corsOrigin = opts.corsOrigin;

  /** The login node's middlewares (aiohttp_session's, then check_login_status), then the routes. */
  async function loginAndRoutes(req: Req): Promise<Reply | 'upgraded'> {
    const inner = async (): Promise<Reply | 'upgraded'> => {
      const stop = login?.middleware?.(req);
      if (stop) return stop;
      return (await login?.routes?.(req)) ?? routes(req);
    };
    const reply = await inner();
    return reply === 'upgraded' || !login?.sessions ? reply : login.sessions.save(req, reply);
  }

  /** ComfyUI's middlewares in order: cache control, deprecation warnings, then CORS or the origin check. */
  async function pipeline(req: Req): Promise<Reply | 'upgraded'> {
    if (req.path.startsWith('/scripts/ui') || req.path.startsWith('/extensions/core/')) {
      if (!warnedDeprecated.has(req.path)) {
        warnedDeprecated.add(req.path);
        log(`[DEPRECATION WARNING] Detected import of deprecated legacy API: ${req.path}. This is likely caused by a custom node extension using outdated APIs. Please update your extensions or contact the extension author for an updated version.`);
      }
    }
    let reply: Reply | 'upgraded';
    if (corsOrigin !== undefined) {
      reply = req.method === 'OPTIONS' ? empty(200) : await loginAndRoutes(req);
      if (reply !== 'upgraded' && !reply.raised) reply = { ...reply, headers: { ...reply.headers, ...CORS_HEADERS(corsOrigin) } };
    } else if (foreignOrigin(req.raw)) {
      log(`WARNING: request with non matching host and origin ${req.raw.headers.host} != ${req.raw.headers.origin}, returning 403`);
      reply = empty(403);
    } else {
      reply = req.method === 'OPTIONS' ? empty(200) : await loginAndRoutes(req);
    }
    return reply === 'upgraded' || reply.raised ? reply : cacheControl(req.path, reply);
  }

  async function answer(req: Req): Promise<Reply | 'upgraded'> {
    try {
      return await pipeline(req);
    } catch (e) {
      log(`Error handling request from ${req.raw.socket.remoteAddress ?? '-'}`);
      const known = e instanceof NodeCrash || e instanceof ValidationCrash || e instanceof PyJsonError;
      log(known ? `Traceback (most recent call last):\n${e instanceof PyJsonError ? `json.decoder.JSONDecodeError: ${e.message}` : e.message}` : String((e as Error).stack ?? e));
      return internalError(req);
    }
  }

  function parse(raw: IncomingMessage, body: Buffer, upgrade?: () => void): Req {
    const url = new URL(raw.url ?? '/', 'http://comfyui.invalid');
    const safe = unquote(url.pathname, '/%');
    const route = safe.startsWith('/api/') ? safe.slice(4) : safe;
    return { method: raw.method ?? 'GET', path: unquote(url.pathname, '/'), route, url, raw, body, upgrade };
  }

  const server = createServer((raw: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      void answer(parse(raw, Buffer.concat(chunks))).then((reply) => {
        if (reply === 'upgraded') return;
        const body = reply.body ?? '';
        const length = reply.status === 204 ? {} : { 'Content-Length': Buffer.byteLength(body) };
        res.writeHead(reply.status, { Server: 'Python/3.12 aiohttp/3.12.15', ...length, ...reply.headers });
        res.end(raw.method === 'HEAD' || reply.status === 204 ? undefined : body);
        log(accessLine(raw, reply.status, Buffer.byteLength(body)));
      });
    });
  });
  const sockets = new Set<Duplex>();
  server.on('connection', (sock: Duplex) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });

  server.on('upgrade', (raw: IncomingMessage, socket: Duplex, head: Buffer) => {
    const req = parse(raw, Buffer.alloc(0), () => hub.accept(raw, socket, head, req.url.searchParams.get('clientId')));
    void answer(req).then((reply) => {
      log(accessLine(raw, reply === 'upgraded' ? 101 : reply.status, 0));
      if (reply === 'upgraded') return;
      // A refused handshake gets the same HTTP answer a plain request would.
      const body = Buffer.from(reply.body ?? '');
      const headers = Object.entries({ ...reply.headers, 'Content-Length': String(body.length), Connection: 'close' })
        .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}\r\n`))
        .join('');
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}\r\n${headers}\r\n`), body]));
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  argv[4] = String(port);
  const shown = host.includes(':') ? `[${host}]` : host;
  log(`To see the GUI go to: http://${shown}:${port}`);
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : shown;

  return {
    url: `http://${reachable}:${port}`,
    port,
    close: async () => {
      executor.stop();
      hub.close();
      const closing = [...sockets].map((sock) => new Promise((ok) => sock.once('close', ok)));
      server.closeAllConnections();
      for (const sock of sockets) sock.destroy();
      await Promise.all([new Promise<void>((ok) => server.close(() => ok())), ...closing]);
      // Let in-process clients see the FIN of their pooled keep-alive sockets before a restart
      // on the same port, or their next request goes down a dead socket ("other side closed").
      await new Promise((ok) => setTimeout(ok, 50));
    },
  };
}
