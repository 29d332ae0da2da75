import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { extname } from 'node:path';
import { pyJson, pyParse, type PyValue } from './pyjson.js';

/** What a handler answers; the server writes it with aiohttp's headers. */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Raised as an aiohttp HTTPException rather than returned: middlewares that decorate returned responses (CORS, cache control) never see it. */
  raised?: boolean;
}

/**
 * yarl's unquoting: percent escapes decoded as UTF-8 (bad bytes become U+FFFD), except the
 * characters in `keep` (e.g. "/" so that %2F stays a literal inside one path segment).
 */
export function unquote(s: string, keep = ''): string {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = run.split('%').slice(1).map((h) => parseInt(h, 16));
    let out = '';
    let pending: number[] = [];
    const flush = () => {
      out += Buffer.from(pending).toString('utf8');
      pending = [];
    };
    for (const b of bytes) {
      if (b < 0x80 && keep.includes(String.fromCharCode(b))) {
        flush();
        out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
      } else pending.push(b);
    }
    flush();
    return out;
  });
}

/** One parsed request, shared by the middlewares and routes. */
export interface Req {
  method: string;
  /** aiohttp's request.path: the decoded path (%2F kept) that ComfyUI-Login's suffix checks look at. */
  path: string;
  /** The routing path (aiohttp's path_safe: %2F and %25 kept) without the `/api` prefix ComfyUI mirrors every route under. */
  route: string;
  url: URL;
  raw: IncomingMessage;
  body: Buffer;
  /** Set on a WebSocket handshake: the /ws route calls it once the middlewares let it through. */
  upgrade?: () => void;
}

export function json(value: unknown, status = 200): Reply {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: pyJson(value) };
}

const PHRASES: Record<number, string> = {
  302: 'Found',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** aiohttp's HTTPException replies: body "<code>: <phrase>" as text/plain. */
export function httpError(status: number, extra: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...extra }, body: `${status}: ${PHRASES[status] ?? ''}` };
}

export function redirect(location: string, extra: Record<string, string | string[]> = {}): Reply {
  const r = httpError(302);
  return { ...r, headers: { ...r.headers, Location: location, ...extra } };
}

/** `raise web.HTTPFound(...)` (as opposed to returning it). */
export function raisedRedirect(location: string): Reply {
  return { ...redirect(location), raised: true };
}

/** A bare web.Response(status=...): no body, aiohttp's default octet-stream type. */
export function empty(status = 200): Reply {
  return { status, headers: { 'Content-Type': 'application/octet-stream' }, body: '' };
}

/** What aiohttp answers when a handler raises: text/plain unless the client accepts HTML. */
export function internalError(req: Req): Reply {
  const title = '500 Internal Server Error';
  const msg = 'Server got itself in trouble';
  if ((req.raw.headers.accept ?? '').includes('text/html')) {
    return { status: 500, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: `<html><head><title>${title}</title></head><body><h1>${title}</h1>${msg}</body></html>` };
  }
  return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${title}\n\n${msg}` };
}

/** Form fields of a urlencoded or multipart body, as aiohttp's request.post(); other bodies give none. */
export async function formFields(req: Req): Promise<Map<string, string>> {
  const type = req.raw.headers['content-type'] ?? '';
  const fields = new Map<string, string>();
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return fields;
  const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': type } }).formData();
  for (const [k, v] of form) if (typeof v === 'string' && !fields.has(k)) fields.set(k, v);
  return fields;
}

/** Parses a JSON body the way aiohttp's request.json() does (Python's json.loads): invalid JSON raises (a 500). */
export function jsonBody(req: Req): PyValue {
  return pyParse(req.body.toString('utf8'));
}

/** Python 3.12's default mimetypes, which aiohttp's FileResponse uses (".js" is text/javascript there). */
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.html': 'text/html',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/vnd.microsoft.icon',
};

export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * aiohttp's web.FileResponse: the file with its guessed type, ETag and Last-Modified; a missing
 * file is a bare 404 and anything but a regular file a bare 403.
 */
export function fileResponse(path: string, headers: Record<string, string> = {}): Reply {
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  if (!st) return empty(404);
  if (!st.isFile()) return empty(403);
  return {
    status: 200,
    headers: {
      'Content-Type': contentType(path),
      'Accept-Ranges': 'bytes',
      ETag: `"${st.mtimeNs.toString(16)}-${st.size.toString(16)}"`,
      'Last-Modified': new Date(Number(st.mtimeMs)).toUTCString(),
      ...headers,
    },
    body: readFileSync(path),
  };
}
