/**
 * The gateway: an HTTP + WebSocket reverse proxy in front of one ComfyUI (+ ComfyUI-Login).
 * Clients present a per-client key (Bearer, ?token= or a session cookie); the gateway checks
 * it and its scope, strips it, adds ComfyUI-Login's hash and forwards through undici's pool.
 * Nothing here is per-deployment global: start one per instance with its own options.
 *
 *   const gw = await startGateway({ upstream: 'http://comfyui:8188', stateDir, secretFile, port: 8189 });
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, request } from 'undici';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { redact } from '../redact.js';
import { looksLikeKey, scopeAllows, type KeyRecord, type ProxyScope } from './keys.js';
import { RateLimiter } from './limits.js';
import { PromptTracker, type QueueSnapshot } from './prompts.js';
import { KeyRing, type RingStatus } from './ring.js';
import { ruleFor, type Special } from './routes.js';
import { ScrubStream, scrubBuffer, scrubText, secretForms } from './scrub.js';
import { clearedSessionCookie, cookieValue, loginPage, safeNext, SESSION_COOKIE, sessionCookie, Sessions } from './session.js';
import { UpstreamSecret, type SecretStatus } from './upstream-secret.js';
import { UsageRecorder } from './usage.js';

export interface GatewayOptions {
  /** ComfyUI's base URL as the gateway reaches it, e.g. http://comfyui:8188. */
  upstream: string;
  /** Default 127.0.0.1; 0.0.0.0 in a container. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** login/PASSWORD-format file whose line 1 is ComfyUI-Login's hash; none: ComfyUI has no login node. */
  secretFile?: string;
  /** keys.json (written by the panel), usage/, session.key, used-links.jsonl. */
  stateDir: string;
  /** One line per request and event, already redacted; default stdout. */
  log?: (line: string) => void;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy?: boolean;
  /** Mark the session cookie Secure (when clients reach the gateway over https). */
  secureCookies?: boolean;
  /** How often keys.json, the secret file and key expiry are looked at (default 250 ms). */
  reloadMs?: number;
  /** How often outstanding prompts are looked up on ComfyUI (default 500 ms). */
  pollMs?: number;
  sessionMaxAgeMs?: number;
}

export type IntakeState = 'serving' | 'draining' | 'drained';

export interface DrainStatus {
  state: IntakeState;
  since?: string;
  deadline?: string;
  /** Drained because the timeout passed, with prompts still in ComfyUI's queue. */
  timedOut?: boolean;
}

export interface GatewayStatus {
  version: 1;
  upstream: { url: string; reachable: boolean; error?: string };
  intake: DrainStatus;
  queue: { running: number; pending: number; tracked: number };
  keys: RingStatus;
  secret: SecretStatus;
  sockets: number;
  startedAt: string;
}

export interface Gateway {
  url: string;
  port: number;
  status(): Promise<GatewayStatus>;
  drain(timeoutMs: number): DrainStatus;
  resume(): DrainStatus;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'http2-settings']);
const TEXT_TYPE = /^(text\/|application\/(json|javascript|x-ndjson|xml))/i;
const MAX_PROMPT_BODY = 32 * 2 ** 20;

interface Caller {
  key: KeyRecord;
  via: 'bearer' | 'token' | 'session';
  address: string;
}

type Verdict = { ok: true; caller: Caller } | { ok: false; status: number; message: string; retryAfter?: number; login?: boolean; caller?: Caller };

function jsonReply(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** The request's query without any token parameter (what is forwarded and logged). */
function withoutToken(url: URL): string {
  if (!url.searchParams.has('token')) return url.search;
  const q = new URLSearchParams(url.searchParams);
  q.delete('token');
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) return undefined;
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const upstream = new URL(opts.upstream);
  const reloadMs = opts.reloadMs ?? 250;
  const out = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const secret = new UpstreamSecret(opts.secretFile, async (hash) => {
    const r = await request(new URL('/system_stats', upstream), { headers: { authorization: `Bearer ${hash}`, accept: 'application/json' }, headersTimeout: 5_000, bodyTimeout: 5_000 });
    await r.body.dump();
    return r.statusCode === 200;
  });
  const ring = new KeyRing(opts.stateDir);
  await secret.start(reloadMs);
  await ring.start(reloadMs);
  const sessions = await Sessions.open(opts.stateDir, opts.sessionMaxAgeMs);
  // Every line goes through the project's redaction plus the hash's exact forms.
  const log = (line: string) => out(redact(scrubText(line, needles())));
  const usage = new UsageRecorder(opts.stateDir, (m) => log(`[gateway] ${m}`));
  const limiter = new RateLimiter();
  const startedAt = new Date().toISOString();
  const pool = new Pool(upstream.origin, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 300_000, bodyTimeout: 300_000 });

  let needleCache: { of: string | undefined; text: string[]; bytes: Buffer[] } = { of: undefined, text: [], bytes: [] };
  const forms = () => {
    const known = secret.known;
    const of = known.join('\n');
    if (needleCache.of !== of) {
      const text = known.flatMap((h) => secretForms(h));
      needleCache = { of, text, bytes: text.map((t) => Buffer.from(t)) };
    }
    return needleCache;
  };
  const needles = () => forms().text;

  const upstreamHeaders = (): Record<string, string> => (secret.current ? { authorization: `Bearer ${secret.current}` } : {});

  async function upstreamJson(path: string): Promise<unknown> {
    const r = await pool.request({ method: 'GET', path, headers: { ...upstreamHeaders(), accept: 'application/json' }, headersTimeout: 10_000, bodyTimeout: 10_000 });
    if (r.statusCode !== 200) {
      await r.body.dump();
      throw new Error(`ComfyUI answered ${r.statusCode} to GET ${path}`);
    }
    return r.body.json();
  }

  // --- intake and drain ---------------------------------------------------------------
  let intake: DrainStatus = { state: 'serving' };
  let drainTimer: NodeJS.Timeout | undefined;
  const tracker = new PromptTracker(
    upstreamJson,
    (promptId, o, seconds, status) => {
      usage.execution(o.key, o.name, promptId, seconds, status);
      log(`[gateway] prompt ${promptId} of ${o.name} ended: ${status}, ${seconds.toFixed(3)} s`);
    },
    () => intake.state === 'draining',
    opts.pollMs ?? 500,
  );
  tracker.start();

  const queueEmpty = (q: QueueSnapshot) => q.running.length === 0 && q.pending.length === 0;
  async function drainTick(): Promise<void> {
    if (intake.state !== 'draining') return;
    await tracker.poll();
    if (intake.state !== 'draining') return;
    const timedOut = Date.now() >= Date.parse(intake.deadline!);
    if ((!tracker.error && queueEmpty(tracker.queue())) || timedOut) {
      intake = { ...intake, state: 'drained', ...(timedOut && !queueEmpty(tracker.queue()) ? { timedOut: true } : {}) };
      log(`[gateway] drained${intake.timedOut ? ' (timeout passed with prompts still queued)' : ''}`);
    }
  }
  function drain(timeoutMs: number): DrainStatus {
    if (intake.state === 'serving') {
      const now = Date.now();
      intake = { state: 'draining', since: new Date(now).toISOString(), deadline: new Date(now + timeoutMs).toISOString() };
      log(`[gateway] draining: new prompts get 503 for up to ${Math.round(timeoutMs / 1000)} s`);
      clearInterval(drainTimer);
      drainTimer = setInterval(() => void drainTick(), reloadMs);
      drainTimer.unref();
      void drainTick();
    }
    return intake;
  }
  function resume(): DrainStatus {
    clearInterval(drainTimer);
    if (intake.state !== 'serving') log('[gateway] intake resumed');
    intake = { state: 'serving' };
    return intake;
  }
  const retryAfter = () => Math.max(1, Math.ceil(((intake.deadline ? Date.parse(intake.deadline) : Date.now()) - Date.now()) / 1000)) || 30;

  // --- who is calling -------------------------------------------------------------------
  function address(req: IncomingMessage): string {
    const forwarded = opts.trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0]?.trim() : '';
    return (forwarded || req.socket.remoteAddress || '-').replace(/^::ffff:/, '');
  }

  /** The first key-shaped credential decides (Bearer, then ?token=, then the session cookie); anything else is ignored. */
  function identify(req: IncomingMessage, url: URL, from: string): Verdict {
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const token = url.searchParams.getAll('token').find(looksLikeKey);
    const raw = bearer && looksLikeKey(bearer) ? { value: bearer, via: 'bearer' as const } : token ? { value: token, via: 'token' as const } : undefined;
    if (raw) {
      const key = ring.verify(raw.value);
      return key ? { ok: true, caller: { key, via: raw.via, address: from } } : { ok: false, status: 401, message: 'This API key is not valid (unknown, revoked or expired).' };
    }
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (cookie) {
      const id = sessions.verify(cookie);
      const key = id ? ring.byKeyId(id) : undefined;
      if (key && key.scope !== 'control') return { ok: true, caller: { key, via: 'session', address: from } };
      return { ok: false, status: 401, message: 'Your session has ended; sign in again.', login: true };
    }
    return { ok: false, status: 401, message: 'Authentication required: send an API key (Authorization: Bearer cpk_...).', login: true };
  }

  function authorize(req: IncomingMessage, url: URL, needs: ProxyScope, from: string): Verdict {
    const who = identify(req, url, from);
    if (!who.ok) return who;
    const { key } = who.caller;
    if (!scopeAllows(key.scope, needs)) return { ok: false, caller: who.caller, status: 403, message: `The key "${key.name}" has scope ${key.scope}; ${req.method} ${url.pathname} needs ${needs}.` };
    const wait = limiter.take(key.id, key.rateLimit);
    if (wait) return { ok: false, caller: who.caller, status: 429, message: `The key "${key.name}" is over its rate limit (${key.rateLimit!.requests} per ${key.rateLimit!.perSeconds} s).`, retryAfter: wait };
    return who;
  }

  function refuse(req: IncomingMessage, res: ServerResponse, v: Extract<Verdict, { ok: false }>, url: URL): void {
    const browser = (req.headers.accept ?? '').includes('text/html') && req.method === 'GET';
    if (v.status === 401 && v.login && browser) {
      res.writeHead(302, { Location: `/_gateway/login?next=${encodeURIComponent(url.pathname + withoutToken(url))}`, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    jsonReply(res, v.status, { error: v.message }, v.retryAfter ? { 'Retry-After': String(v.retryAfter) } : {});
  }

  // --- forwarding -----------------------------------------------------------------------
  function forwardHeaders(req: IncomingMessage, body?: Buffer): Record<string, string | string[]> {
    const h: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || name === 'authorization' || name === 'cookie') continue;
      h[name] = value;
    }
    if (body) h['content-length'] = String(body.length);
    return { ...h, ...upstreamHeaders() };
  }

  function responseHeaders(raw: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = {};
    const n = needles();
    for (const [name, value] of Object.entries(raw)) {
      // ComfyUI-Login's session cookie never reaches a client: the gateway's session is the only one.
      if (value === undefined || HOP_BY_HOP.has(name) || name === 'set-cookie') continue;
      h[name] = Array.isArray(value) ? value.map((v) => scrubText(v, n)) : scrubText(value, n);
    }
    return h;
  }

  async function forward(req: IncomingMessage, res: ServerResponse, url: URL, body?: Buffer): Promise<{ status: number; json?: unknown }> {
    if (secret.configured && !secret.current) {
      jsonReply(res, 503, { error: 'The gateway has no ComfyUI credential loaded yet (secret file missing or empty).' }, { 'Retry-After': '5' });
      return { status: 503 };
    }
    const method = req.method ?? 'GET';
    let r;
    try {
      r = await pool.request({
        method: method,
        path: url.pathname + withoutToken(url),
        headers: forwardHeaders(req, body),
        body: body ?? (method === 'GET' || method === 'HEAD' ? undefined : req),
        highWaterMark: 1024 * 1024,
      });
    } catch (e) {
      log(`[gateway] upstream ${method} ${url.pathname}: ${(e as Error).message}`);
      jsonReply(res, 502, { error: 'ComfyUI is not reachable through the gateway.' });
      return { status: 502 };
    }
    const headers = responseHeaders(r.headers);
    const type = String(r.headers['content-type'] ?? '');
    const { bytes } = forms();
    if (body) {
      // A prompt's answer is small: read it whole to learn the prompt id.
      const buf = scrubBuffer(Buffer.from(await r.body.arrayBuffer()), bytes);
      headers['content-length'] = String(buf.length);
      res.writeHead(r.statusCode, headers);
      res.end(buf);
      let json: unknown;
      try {
        json = JSON.parse(buf.toString('utf8'));
      } catch {
        json = undefined;
      }
      return { status: r.statusCode, json };
    }
    res.writeHead(r.statusCode, headers);
    try {
      if (bytes.length && TEXT_TYPE.test(type)) await pipeline(r.body, new ScrubStream(bytes), res);
      else await pipeline(r.body, res);
    } catch {
      res.destroy();
    }
    return { status: r.statusCode };
  }

  /** Gives ComfyUI a client id of this key's own, so no key can take over another's WebSocket. */
  const ownClientId = (key: KeyRecord, id: string) => `${key.id}-${id}`;

  async function special(kind: Special, req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): Promise<number> {
    const { key } = caller;
    if (kind === 'ws') return (await forward(req, res, url)).status; // a plain GET /ws: ComfyUI answers 400
    const body = await readBody(req, MAX_PROMPT_BODY);
    if (!body) {
      jsonReply(res, 413, { error: 'Request body too large.' });
      return 413;
    }
    let parsed: Record<string, unknown> | undefined;
    try {
      const v = JSON.parse(body.toString('utf8')) as unknown;
      parsed = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    const admin = key.scope === 'admin';
    if (kind === 'prompt') {
      if (intake.state !== 'serving') {
        jsonReply(res, 503, { error: 'ComfyUI is being restarted; the gateway takes no new prompts for now.' }, { 'Retry-After': String(retryAfter()) });
        return 503;
      }
      if (key.maxQueued && tracker.count(key.id) >= key.maxQueued) {
        jsonReply(res, 429, { error: `The key "${key.name}" already has ${key.maxQueued} prompt(s) queued or running (its limit).` }, { 'Retry-After': '5' });
        return 429;
      }
      if (parsed && typeof parsed.client_id === 'string') parsed.client_id = ownClientId(key, parsed.client_id);
      const release = tracker.reserve(key.id);
      try {
        const sent = parsed ? Buffer.from(JSON.stringify(parsed)) : body;
        const { status, json } = await forward(req, res, url, sent);
        const promptId = (json as { prompt_id?: unknown } | undefined)?.prompt_id;
        if (status === 200 && typeof promptId === 'string') {
          tracker.add(promptId, { key: key.id, name: key.name, submittedAt: Date.now() });
          usage.prompt(key.id, key.name, caller.address, promptId);
        }
        return status;
      } finally {
        release();
      }
    }
    if (kind === 'interrupt' && !admin) {
      let target = typeof parsed?.prompt_id === 'string' ? parsed.prompt_id : undefined;
      if (!target) {
        // A global interrupt from a non-admin key: only if what runs now is its own, and then targeted.
        await tracker.poll();
        target = tracker.queue().running[0];
      }
      if (!target || tracker.owner(target) !== key.id) {
        jsonReply(res, 403, { error: `The key "${key.name}" may interrupt only its own running prompt.` });
        return 403;
      }
      return (await forward(req, res, url, Buffer.from(JSON.stringify({ prompt_id: target })))).status;
    }
    if (kind === 'queue-edit' && !admin) {
      const del = parsed?.delete;
      const own = Array.isArray(del) && del.length > 0 && !parsed?.clear && del.every((id) => typeof id === 'string' && tracker.owner(id) === key.id);
      if (!own) {
        jsonReply(res, 403, { error: `The key "${key.name}" may only delete its own queued prompts; clearing the queue needs admin.` });
        return 403;
      }
    }
    return (await forward(req, res, url, body)).status;
  }

  // --- the gateway's own pages and control ----------------------------------------------
  async function ownRoute(req: IncomingMessage, res: ServerResponse, url: URL, from: string): Promise<number> {
    const route = url.pathname.slice('/_gateway'.length);
    const secure = Boolean(opts.secureCookies);
    if (route === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      jsonReply(res, 200, { ok: true });
      return 200;
    }
    if (route === '/login' && req.method === 'GET') {
      const html = loginPage({ next: safeNext(url.searchParams.get('next')), link: url.searchParams.get('link') ?? undefined });
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'", 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
      res.end(html);
      return 200;
    }
    if (route === '/login' && req.method === 'POST') return signIn(req, res, secure, from);
    if (route === '/logout') {
      res.writeHead(303, { Location: '/_gateway/login', 'Set-Cookie': clearedSessionCookie(secure), 'Cache-Control': 'no-store' });
      res.end();
      return 303;
    }
    if (route.startsWith('/control/')) return control(req, res, route.slice('/control'.length));
    jsonReply(res, 404, { error: 'Not found.' });
    return 404;
  }

  async function signIn(req: IncomingMessage, res: ServerResponse, secure: boolean, from: string): Promise<number> {
    const body = await readBody(req, 16 * 1024);
    const form = new URLSearchParams(body?.toString('utf8') ?? '');
    const next = safeNext(form.get('next'));
    const page = (status: number, error: string, link?: string) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
      res.end(loginPage({ next, error, link }));
      return status;
    };
    // The session cookie is SameSite=Strict; a sign-in posted from another site is refused too.
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && new URL(origin).host !== req.headers.host) return page(403, 'Sign in from this page.');
    let key: KeyRecord | undefined;
    const link = form.get('link');
    if (link) {
      const record = ring.link(link);
      if (!record || !(await sessions.consumeLink(record.id))) return page(401, 'This sign-in link has been used or has expired. Ask for a new one.');
      key = ring.byKeyId(record.keyId);
    } else key = ring.verify(form.get('key')?.trim() ?? '');
    if (!key || key.scope === 'control') return page(401, 'That key is not valid (unknown, revoked or expired).');
    const { value, maxAgeSeconds } = sessions.issue(key.id, key.expiresAt);
    res.writeHead(303, { Location: next, 'Set-Cookie': sessionCookie(value, maxAgeSeconds, secure), 'Cache-Control': 'no-store' });
    res.end();
    log(`[gateway] ${from} signed in as ${key.name} (${key.id})${link ? ' with a one-time link' : ''}`);
    return 303;
  }

  async function status(): Promise<GatewayStatus> {
    await tracker.poll();
    const q = tracker.queue();
    return {
      version: 1,
      upstream: { url: upstream.origin, reachable: !tracker.error, ...(tracker.error ? { error: tracker.error } : {}) },
      intake,
      queue: { running: q.running.length, pending: q.pending.length, tracked: tracker.size },
      keys: ring.status(),
      secret: secret.status(),
      sockets: sockets.size,
      startedAt,
    };
  }

  /** The panel's channel, per instance: only a `control` key, only as a Bearer header. */
  async function control(req: IncomingMessage, res: ServerResponse, route: string): Promise<number> {
    const auth = req.headers.authorization;
    const key = auth?.startsWith('Bearer ') ? ring.verify(auth.slice(7).trim()) : undefined;
    if (!key || key.scope !== 'control') {
      jsonReply(res, 401, { error: 'The control endpoints need the panel\'s control key.' });
      return 401;
    }
    if (route === '/status' && req.method === 'GET') {
      await drainTick();
      jsonReply(res, 200, await status());
      return 200;
    }
    if (route === '/drain' && req.method === 'POST') {
      const body = await readBody(req, 4096);
      let timeoutMs = 10 * 60_000;
      try {
        const v = (JSON.parse(body?.toString('utf8') || '{}') as { timeoutMs?: unknown }).timeoutMs;
        if (typeof v === 'number' && v >= 0) timeoutMs = v;
      } catch {
        jsonReply(res, 400, { error: 'Body: {"timeoutMs": <number>}' });
        return 400;
      }
      drain(timeoutMs);
      await drainTick();
      jsonReply(res, 200, await status());
      return 200;
    }
    if (route === '/resume' && req.method === 'POST') {
      resume();
      jsonReply(res, 200, await status());
      return 200;
    }
    jsonReply(res, 404, { error: 'Not found.' });
    return 404;
  }

  // --- HTTP entry -------------------------------------------------------------------------
  const server = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    // Read now: once the response is done, req.socket may already be detached.
    const from = address(req);
    let who = '-';
    const done = (status: number) => log(`${new Date().toISOString()} ${from} ${who} "${req.method} ${url.pathname}${withoutToken(url)}" ${status} ${(performance.now() - started).toFixed(1)}ms`);
    const handle = async (): Promise<number> => {
      if (url.pathname.startsWith('/_gateway/')) return ownRoute(req, res, url, from);
      const rule = ruleFor(req.method ?? 'GET', url.pathname);
      if (rule.kind === 'login-node') {
        res.writeHead(302, { Location: '/_gateway/login', 'Cache-Control': 'no-store' });
        res.end();
        return 302;
      }
      const v = authorize(req, url, rule.scope, from);
      if (v.caller) who = `${v.caller.key.name}(${v.caller.key.id})`;
      if (!v.ok) {
        refuse(req, res, v, url);
        return v.status;
      }
      const { caller } = v;
      usage.request(caller.key.id, caller.key.name, caller.address);
      return rule.special ? special(rule.special, req, res, url, caller) : (await forward(req, res, url)).status;
    };
    handle().then(done, (e: unknown) => {
      log(`[gateway] ${req.method} ${url.pathname}: ${(e as Error).message}`);
      if (!res.headersSent) jsonReply(res, 500, { error: 'The gateway failed on this request.' });
      else res.destroy();
      done(500);
    });
  });

  // --- WebSocket relay -------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 2 ** 20 });
  const sockets = new Set<{ keyId: string; client: WebSocket; upstream: WebSocket }>();

  function refuseUpgrade(socket: Duplex, status: number, message: string, extra: Record<string, string> = {}): void {
    const body = JSON.stringify({ error: message });
    const head = Object.entries({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...extra })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 429 ? 'Too Many Requests' : 'Bad Gateway'}\r\n${head}\r\n${body}`);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const from = address(req);
    const rule = ruleFor('GET', url.pathname);
    const logLine = (status: number, who = '-') => log(`${new Date().toISOString()} ${from} ${who} "UPGRADE ${url.pathname}${withoutToken(url)}" ${status}`);
    if (rule.kind !== 'proxy' || rule.special !== 'ws') {
      refuseUpgrade(socket, 403, 'Only /ws is a WebSocket.');
      return logLine(403);
    }
    const v = authorize(req, url, rule.scope, from);
    if (!v.ok) {
      refuseUpgrade(socket, v.status, v.message, v.retryAfter ? { 'Retry-After': String(v.retryAfter) } : {});
      return logLine(v.status, v.caller ? `${v.caller.key.name}(${v.caller.key.id})` : '-');
    }
    const { key } = v.caller;
    const who = `${key.name}(${key.id})`;
    usage.request(key.id, key.name, from);
    const shown = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '');
    const own = ownClientId(key, shown);
    const q = new URLSearchParams(withoutToken(url));
    q.set('clientId', own);
    const target = `${upstream.protocol === 'https:' ? 'wss' : 'ws'}://${upstream.host}/ws?${q.toString()}`;
    const headers: Record<string, string> = { ...upstreamHeaders() };
    if (req.headers.origin) headers.origin = req.headers.origin;
    if (req.headers.host) headers.host = req.headers.host;
    const up = new WebSocket(target, { headers, perMessageDeflate: false, handshakeTimeout: 15_000, maxPayload: 256 * 2 ** 20 });
    let opened = false;
    up.once('unexpected-response', (_r, res) => {
      res.resume();
      refuseUpgrade(socket, res.statusCode === 401 || res.statusCode === 403 ? 502 : (res.statusCode ?? 502), `ComfyUI refused the WebSocket (${res.statusCode}).`);
      logLine(res.statusCode ?? 502, who);
      up.terminate();
    });
    up.once('error', (e) => {
      if (opened) return;
      log(`[gateway] upstream WebSocket: ${e.message}`);
      if (socket.writable) refuseUpgrade(socket, 502, 'ComfyUI is not reachable through the gateway.');
      logLine(502, who);
    });
    up.once('open', () => {
      opened = true;
      wss.handleUpgrade(req, socket, head, (client) => {
        logLine(101, who);
        const entry = { keyId: key.id, client, upstream: up };
        sockets.add(entry);
        up.on('message', (data: RawData, isBinary: boolean) => {
          if (isBinary) return client.send(data as Buffer, { binary: true });
          let text = (data as Buffer).toString('utf8');
          if (text.includes(own)) text = text.split(own).join(shown);
          client.send(scrubText(text, needles()));
        });
        client.on('message', (data: RawData, isBinary: boolean) => up.send(data as Buffer, { binary: isBinary }));
        const closeBoth = (code: number, reason: Buffer) => {
          sockets.delete(entry);
          const c = code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000;
          for (const s of [client, up]) if (s.readyState === WebSocket.OPEN) s.close(c, reason.subarray(0, 120));
          for (const s of [client, up]) if (s.readyState === WebSocket.CONNECTING) s.terminate();
        };
        up.on('close', closeBoth);
        client.on('close', closeBoth);
        up.on('error', () => client.terminate());
        client.on('error', () => up.terminate());
      });
    });
  });

  /** Closes the sockets whose key is no longer valid (revoked, expired, rotated out). */
  function sweepSockets(): void {
    const now = Date.now();
    for (const s of sockets) {
      if (ring.byKeyId(s.keyId, now)) continue;
      sockets.delete(s);
      log(`[gateway] closing a WebSocket of ${ring.nameOf(s.keyId) ?? s.keyId}: its key is no longer valid`);
      s.client.close(1008, 'API key revoked or expired');
      s.upstream.close(1000);
      setTimeout(() => {
        s.client.terminate();
        s.upstream.terminate();
      }, 1000).unref();
    }
  }
  ring.onChange(sweepSockets);
  const expiry = setInterval(sweepSockets, reloadMs);
  expiry.unref();

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = (opts.host ?? '127.0.0.1').includes(':') ? `[${opts.host}]` : (opts.host ?? '127.0.0.1');
  log(`[gateway] listening on ${shownHost}:${port}, forwarding to ${upstream.origin}; ${ring.status().keys} active key(s)${secret.configured ? `, ComfyUI credential ${secret.status().loaded ? 'loaded' : 'NOT loaded'}` : ', no ComfyUI credential (no login node)'}`);

  return {
    url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${port}`,
    port,
    status,
    drain,
    resume,
    async close() {
      clearInterval(expiry);
      clearInterval(drainTimer);
      tracker.stop();
      ring.stop();
      secret.stop();
      for (const s of sockets) {
        s.client.close(1001, 'gateway stopping');
        s.upstream.close(1001);
      }
      await usage.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await pool.close();
    },
  };
}
