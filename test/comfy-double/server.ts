/**
 * A ComfyUI 0.3.64 double with the ComfyUI-Login node, faithful to
 * /work/shared/reference/comfyui-login-behaviour.md case for case. Test code: every suite that
 * needs "a ComfyUI" (container control, token rotation, client, health, e2e) runs against it.
 *
 *   const comfy = await startComfyDouble({ dir, port: 0 });   // dir plays the ComfyUI root
 *   fetch(`${comfy.url}/system_stats`, { headers: { Authorization: `Bearer ${hash}` } });
 *   await comfy.close();
 */
import { mkdirSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { freemem, totalmem } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join, resolve } from 'node:path';
import { Executor } from './executor.js';
import { empty, httpError, internalError, type Reply, type Req } from './http-kit.js';
import { applyLoginFlag, LOGIN_NODE_DIR, LoginNode, loginNodeInstalled, NodeCrash } from './login-node.js';
import { MODEL_FOLDERS } from './nodes.js';
import { coreRoutes } from './routes.js';
import { WsHub } from './ws-hub.js';

export const COMFYUI_VERSION = '0.3.64';

export interface ComfyDoubleOptions {
  /** Plays the ComfyUI root: login/PASSWORD, output/, models/<kind>/, custom_nodes/ComfyUI-Login. */
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Install and load ComfyUI-Login (default true); false removes the node folder: no auth. */
  login?: boolean;
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

export async function startComfyDouble(opts: ComfyDoubleOptions): Promise<ComfyDouble> {
  const root = resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const sink = opts.log ?? (() => undefined);
  const log = (text: string) => text.split('\n').forEach((line) => sink(line));
  for (const d of ['output', 'input', 'temp', ...Object.values(MODEL_FOLDERS).flat().map((f) => join('models', f))]) mkdirSync(join(root, d), { recursive: true });
  applyLoginFlag(root, opts.login ?? true);

  log('Checkpoint files will always be loaded safely.');
  log(`Total VRAM ${Math.round(totalmem() / 2 ** 20)} MB, total RAM ${Math.round(totalmem() / 2 ** 20)} MB`);
  log('pytorch version: 2.8.0+cpu');
  log('Set vram state to: DISABLED');
  log('Device: cpu');
  log(`Python version: 3.12.3 (main, Aug 14 2025, 17:47:21) [GCC 13.3.0]`);
  log(`ComfyUI version: ${COMFYUI_VERSION}`);
  log('ComfyUI frontend version: 1.27.10');
  log('[Prompt Server] web root: /usr/local/lib/python3.12/site-packages/comfyui_frontend_package/static');
  const login = loginNodeInstalled(root) ? new LoginNode(root, log) : undefined;
  if (login) {
    log('Import times for custom nodes:');
    log(`   0.0 seconds: ${join(root, LOGIN_NODE_DIR)}`);
  }
  log('Context impl SQLiteImpl.');
  log('Starting server');

  const hub = new WsHub();
  const executor = new Executor(root, opts.samplerMs ?? 0, hub, log);
  hub.executor = executor;
  let port = opts.port ?? 0;
  const argv = ['main.py', '--listen', host, '--port', String(port), '--cpu'];
  const routes = coreRoutes({
    root,
    executor,
    systemStats: () => ({
      system: { os: 'posix', ram_total: totalmem(), ram_free: freemem(), comfyui_version: COMFYUI_VERSION, required_frontend_version: '1.27.10', python_version: '3.12.3 (main, Aug 14 2025, 17:47:21) [GCC 13.3.0]', pytorch_version: '2.8.0+cpu', embedded_python: false, argv },
      devices: [{ name: 'cpu', type: 'cpu', index: null, vram_total: totalmem(), vram_free: freemem(), torch_vram_total: totalmem(), torch_vram_free: freemem() }],
    }),
  });

  /** The middlewares in ComfyUI's order (origin check, then the login node), then the routes. */
  async function pipeline(req: Req): Promise<Reply | 'upgraded'> {
    if (foreignOrigin(req.raw)) {
      log(`WARNING: request with non matching host and origin ${req.raw.headers.host} != ${req.raw.headers.origin}, returning 403`);
      return empty(403);
    }
    if (req.method === 'OPTIONS') return empty(200);
    if (login) {
      const stop = login.authorize(req);
      if (stop) return stop;
      const own = await login.route(req);
      if (own) return own;
    }
    return (await routes(req)) ?? httpError(404);
  }

  async function answer(req: Req): Promise<Reply | 'upgraded'> {
    try {
      return await pipeline(req);
    } catch (e) {
      log('Error handling request');
      log(e instanceof NodeCrash ? `Traceback (most recent call last):\n${e.message}` : String((e as Error).stack ?? e));
      return internalError(req);
    }
  }

  function parse(raw: IncomingMessage, body: Buffer, upgrade?: () => void): Req {
    const url = new URL(raw.url ?? '/', 'http://comfyui.invalid');
    const route = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
    return { method: raw.method ?? 'GET', route, url, raw, body, upgrade };
  }

  const server = createServer((raw: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      void answer(parse(raw, Buffer.concat(chunks))).then((reply) => {
        if (reply === 'upgraded') return;
        const body = reply.body ?? '';
        res.writeHead(reply.status, { Server: 'Python/3.12 aiohttp/3.12.15', 'Content-Length': Buffer.byteLength(body), ...reply.headers });
        res.end(raw.method === 'HEAD' ? undefined : body);
        log(accessLine(raw, reply.status, Buffer.byteLength(body)));
      });
    });
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
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      // Let in-process clients see the FIN of their pooled keep-alive sockets before a restart
      // on the same port, or their next request goes down a dead socket ("other side closed").
      await new Promise((ok) => setTimeout(ok, 20));
    },
  };
}
