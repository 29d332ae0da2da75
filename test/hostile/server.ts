/**
 * A hostile "ComfyUI": each route answers as a broken or malicious server would (a body that
 * never ends, a huge one, one that trickles, the wrong type, no answer at all), and /ws
 * floods, sends one enormous message or protocol-breaking frames. Built apart from the
 * faithful double (test/comfy-double) on purpose: this one is wrong in every way it can be.
 *
 *   const h = await startHostileComfy({ '/system_stats': { kind: 'endless' } });
 *   h.set('/ws', { kind: 'flood' });
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { badFrames, frame } from './frames.js';

export type Behaviour =
  /** A well-formed answer (any status, any JSON: the wrong type too). */
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'text'; status?: number; body: string; contentType?: string }
  /** 200 and a body that never ends (64 KiB chunks as fast as the client reads). */
  | { kind: 'endless'; status?: number; contentType?: string }
  /** A complete body of `bytes` bytes, e.g. a JSON string that long. */
  | { kind: 'huge'; bytes: number; contentType?: string }
  /** /system_stats whose comfyui_version is `bytes` long. */
  | { kind: 'huge-version'; bytes: number }
  /** Headers at once, then one small chunk every `everyMs`, never finishing. */
  | { kind: 'slow'; everyMs: number; status?: number }
  /** Content-Length promises more than is sent, then the connection is cut. */
  | { kind: 'truncated'; status?: number }
  /** The request is read and never answered. */
  | { kind: 'silent' }
  // WebSocket (/ws) behaviours:
  /** Messages as fast as the socket takes them, until the client goes. */
  | { kind: 'flood' }
  /** These JSON messages right after the handshake, then silence. */
  | { kind: 'messages'; messages: unknown[] }
  /** One text message of `bytes` bytes. */
  | { kind: 'huge-message'; bytes: number }
  /** One protocol-breaking frame (a name from badFrames(false)). */
  | { kind: 'bad-frame'; name: string };

export interface HostileComfy {
  url: string;
  port: number;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  set(path: string, behaviour: Behaviour): void;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 'a'.charCodeAt(0));

/** Writes until the client leaves, honouring backpressure so the test process itself stays small. */
function pour(res: ServerResponse | Duplex, chunk: Buffer): void {
  let stopped = false;
  const stop = () => (stopped = true);
  res.once('close', stop);
  res.once('error', stop);
  const more = () => {
    while (!stopped) {
      if (!res.write(chunk)) return void res.once('drain', more);
    }
  };
  more();
}

function answer(res: ServerResponse, b: Behaviour, open: Set<() => void>): void {
  switch (b.kind) {
    case 'json':
      res.writeHead(b.status ?? 200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify(b.body));
    case 'text':
      res.writeHead(b.status ?? 200, { 'Content-Type': b.contentType ?? 'text/plain' });
      return void res.end(b.body);
    case 'endless':
      res.writeHead(b.status ?? 200, { 'Content-Type': b.contentType ?? 'application/json' });
      res.write('{"system":{"comfyui_version":"');
      return pour(res, CHUNK);
    case 'huge':
      res.writeHead(200, { 'Content-Type': b.contentType ?? 'application/json', 'Content-Length': String(b.bytes + 2) });
      res.write('"');
      for (let left = b.bytes; left > 0; left -= CHUNK.length) res.write(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left));
      return void res.end('"');
    case 'huge-version': {
      const body = JSON.stringify({ system: { os: 'posix', comfyui_version: 'v'.repeat(b.bytes), python_version: '3.12.3' }, devices: [] });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
      return void res.end(body);
    }
    case 'slow': {
      res.writeHead(b.status ?? 200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), b.everyMs);
      const stop = () => clearInterval(timer);
      open.add(stop);
      return void res.once('close', () => {
        stop();
        open.delete(stop);
      });
    }
    case 'truncated':
      res.writeHead(b.status ?? 200, { 'Content-Type': 'application/json', 'Content-Length': '100000' });
      res.write('{"system":{');
      return void setTimeout(() => res.destroy(), 20);
    case 'silent':
      return; // the socket stays open until the client gives up or the server closes
    case 'flood':
    case 'messages':
    case 'huge-message':
    case 'bad-frame':
      res.writeHead(400);
      return void res.end('not an HTTP behaviour');
  }
}

/** The server side of a WebSocket handshake, done by hand so any frame can follow it. */
function upgrade(req: IncomingMessage, socket: Duplex, b: Behaviour | undefined): void {
  socket.on('error', () => undefined);
  const key = req.headers['sec-websocket-key'];
  if (!b || typeof key !== 'string') return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  switch (b.kind) {
    case 'flood':
      return pour(socket, frame({ opcode: 1, payload: JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'x' } }) }));
    case 'messages':
      for (const m of b.messages) socket.write(frame({ opcode: 1, payload: JSON.stringify(m) }));
      return;
    case 'huge-message':
      socket.write(frame({ opcode: 1, claimedLength: BigInt(b.bytes) }));
      for (let left = b.bytes; left > 0; left -= CHUNK.length) socket.write(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left));
      return;
    case 'bad-frame': {
      const bad = badFrames(false).find((f) => f.name === b.name);
      if (!bad) throw new Error(`unknown bad frame ${b.name}`);
      return void socket.write(bad.bytes);
    }
    case 'json':
    case 'text':
    case 'endless':
    case 'huge':
    case 'huge-version':
    case 'slow':
    case 'truncated':
    case 'silent':
      return; // an HTTP behaviour on /ws: accept and stay silent
  }
}

export async function startHostileComfy(initial: Record<string, Behaviour> = {}): Promise<HostileComfy> {
  const routes = new Map(Object.entries(initial));
  const hits = new Map<string, number>();
  const open = new Set<() => void>();
  const count = (path: string) => hits.set(path, (hits.get(path) ?? 0) + 1);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    count(path);
    req.resume();
    const b = routes.get(path);
    if (!b) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end('404: Not Found');
    }
    answer(res, b, open);
  });
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    count(path);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    upgrade(req, socket, routes.get(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    set: (path, behaviour) => void routes.set(path, behaviour),
    close: () =>
      new Promise<void>((resolve) => {
        for (const stop of open) stop();
        for (const s of upgraded) s.destroy(); // upgraded sockets are no longer the HTTP server's
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
