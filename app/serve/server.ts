import { promises as fs } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventNames, type PanelHandlers } from '../contract/index.js';
import { cspFromIndexHtml, securityHeaders, staticContentType } from '../security/csp.js';
import type { EventBus } from '../service/bus.js';
import { dispatch, toContractError, ContractError } from '../service/dispatch.js';
import { AccessGuard, DEFAULT_SESSION_LIMITS, type SessionLimits } from './guard.js';

export interface BrowserServerOptions {
  handlers: PanelHandlers;
  bus: EventBus;
  /** Built renderer folder (index.html and assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Sign-in link and session lifetimes (tests shorten them). */
  session?: Partial<SessionLimits>;
}

export interface BrowserServer {
  /** The first sign-in link: works once, for SessionLimits.ticketTtlMs. */
  url: string;
  port: number;
  /** The launch key: `Authorization: Bearer <key>` for scripts; also mints sign-in links. Never in a URL. */
  key: string;
  /** A new one-time sign-in link. */
  newLoginUrl(): string;
  close(): Promise<void>;
}

/** Where scripts (Bearer key) get a new sign-in link, and where the UI signs out. */
export const LOGIN_URL_PATH = '/api/session/login-url';
export const LOGOUT_PATH = '/api/session/logout';
/** How often expired sessions are dropped and their event sockets closed. */
const SESSION_SWEEP_MS = 30_000;

const MAX_BODY = 1024 * 1024;
/** Past this many queued bytes a slow client loses log lines rather than growing memory. */
const WS_HIGH_WATER = 4 * 1024 * 1024;


async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ContractError({ code: 'invalid-input', message: 'request body over 1 MiB' });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ContractError({ code: 'invalid-input', message: 'request body is not valid JSON' });
  }
}

/** Browser mode: the renderer and the contract over HTTP + WebSocket, on 127.0.0.1 only. */
export async function startBrowserServer(opts: BrowserServerOptions): Promise<BrowserServer> {
  let port = 0;
  const limits: SessionLimits = { ...DEFAULT_SESSION_LIMITS, ...opts.session };
  const guard = new AccessGuard(() => port, limits);
  const loginUrl = () => `http://127.0.0.1:${port}/?key=${guard.mintTicket()}`;
  /** Event sockets and the session each belongs to (undefined: a Bearer script). */
  const sockets = new Map<WebSocket, string | undefined>();
  const closeSessionSockets = () => {
    for (const [ws, id] of sockets) if (id !== undefined && !guard.live(id)) ws.close(4401, 'session ended');
  };
  const root = path.resolve(opts.rendererDir);
  const headers = securityHeaders(cspFromIndexHtml(await fs.readFile(path.join(root, 'index.html'), 'utf8')));
  const send = (res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  };

  async function serveStatic(res: ServerResponse, pathname: string): Promise<void> {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) return send(res, 404, 'not found');
    try {
      send(res, 200, await fs.readFile(file), staticContentType(file));
    } catch {
      // Client-side routes fall back to the app shell.
      if (!path.extname(rel)) return send(res, 200, await fs.readFile(path.join(root, 'index.html')), 'text/html; charset=utf-8');
      send(res, 404, 'not found');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = guard.foreignHeaders(req);
    if (refused) return send(res, 403, `refused: ${refused}`);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = url.searchParams.get('key');
    if (key !== null) {
      const cookie = guard.redeem(key);
      if (!cookie) return send(res, 401, `this sign-in link is not valid (each works once, for ${Math.round(limits.ticketTtlMs / 60_000)} minutes): get a new one as \`comfy-panel serve\` printed`);
      // Trade the one-time ticket for a cookie and drop it from the address bar.
      return send(res, 303, '', 'text/plain', { Location: '/', 'Set-Cookie': cookie });
    }
    if (url.pathname === LOGOUT_PATH && req.method === 'POST') {
      const id = guard.sessionOf(req);
      if (id) guard.logout(id);
      closeSessionSockets();
      return send(res, 204, '', 'text/plain', { 'Set-Cookie': guard.clearedCookie() });
    }
    if (!guard.authenticated(req)) return send(res, 401, 'authentication required: open a sign-in link from `comfy-panel serve` (each works once)');
    if (url.pathname === LOGIN_URL_PATH) {
      if (req.method !== 'POST') return send(res, 405, 'use POST', 'text/plain', { Allow: 'POST' });
      // Only the launch key mints links: a session cannot extend itself into new ones.
      if (!guard.keyMatches(req.headers.authorization?.slice(7))) return send(res, 403, 'a new sign-in link needs the launch key (Authorization: Bearer <key>)');
      return send(res, 200, JSON.stringify({ url: loginUrl() }), 'application/json');
    }

    if (url.pathname.startsWith('/api/op/')) {
      if (req.method !== 'POST') return send(res, 405, 'use POST', 'text/plain', { Allow: 'POST' });
      if (!req.headers['content-type']?.startsWith('application/json')) return send(res, 415, 'Content-Type must be application/json');
      const name = url.pathname.slice('/api/op/'.length);
      try {
        const result = await dispatch(opts.handlers, name, await readJson(req));
        return send(res, 200, JSON.stringify({ ok: true, result: result ?? null }), 'application/json');
      } catch (err) {
        const error = toContractError(err);
        const status = error.code === 'invalid-input' ? 400 : error.code === 'unknown-operation' ? 404 : 500;
        return send(res, status, JSON.stringify({ ok: false, error }), 'application/json');
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    return serveStatic(res, url.pathname);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  wss.on('error', () => undefined); // only a listening wss emits it; noServer never does, but never let it throw
  server.on('upgrade', (req, socket, head) => {
    // A client that resets mid-handshake must not take the process down.
    socket.on('error', () => socket.destroy());
    const refused = guard.foreignHeaders(req);
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (refused || pathname !== '/api/events' || !guard.authenticated(req)) {
      socket.end(`HTTP/1.1 ${refused ? '403 Forbidden' : '401 Unauthorized'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const session = guard.sessionOf(req);
    wss.handleUpgrade(req, socket, head, (ws) => attachEvents(ws, session));
  });

  function attachEvents(ws: WebSocket, session: string | undefined): void {
    sockets.set(ws, session);
    const unsubscribe = eventNames.map((event) =>
      opts.bus.on(event, (payload, instance) => {
        if (ws.readyState !== ws.OPEN) return;
        if (event === 'log' && ws.bufferedAmount > WS_HIGH_WATER) return;
        ws.send(JSON.stringify({ event, payload, ...(instance === undefined ? {} : { instance }) }));
      }),
    );
    ws.on('close', () => {
      sockets.delete(ws);
      unsubscribe.forEach((off) => off());
    });
    // A malformed frame (bad UTF-8, unmasked, bad opcode or close code, RSV bits, oversized)
    // is an 'error' on this socket: ws has already sent the close code; drop the client, never the process.
    ws.on('error', () => ws.terminate());
    ws.on('message', () => ws.close(1008, 'this socket only pushes events'));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  // Sessions end on their own: drop them and close their event sockets.
  const sweep = setInterval(() => {
    guard.prune();
    closeSessionSockets();
  }, SESSION_SWEEP_MS);
  sweep.unref();
  return {
    port,
    key: guard.key,
    url: loginUrl(),
    newLoginUrl: loginUrl,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
