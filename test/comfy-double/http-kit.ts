import type { IncomingMessage } from 'node:http';

/** What a handler answers; the server writes it with aiohttp's headers. */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** One parsed request, shared by the middlewares and routes. */
export interface Req {
  method: string;
  /** Path without the `/api` prefix ComfyUI mirrors every route under. */
  route: string;
  url: URL;
  raw: IncomingMessage;
  body: Buffer;
  /** Set on a WebSocket handshake: the /ws route calls it once the middlewares let it through. */
  upgrade?: () => void;
}

/**
 * Python's json.dumps with its default separators (", " and ": ") and ensure_ascii, so
 * bodies match aiohttp's web.json_response byte for byte.
 */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`)
    .join(', ')}}`;
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

/** Parses a JSON body the way aiohttp's request.json() does: invalid JSON raises (a 500). */
export function jsonBody(req: Req): unknown {
  return JSON.parse(req.body.toString('utf8'));
}
