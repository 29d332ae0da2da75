import WebSocket from 'ws';
import { ComfyError, errorForNetwork, errorForStatus } from './errors.js';
import { parseBinaryMessage, parseTextMessage, type ComfyMessage } from './messages.js';

export type SocketState =
  | { state: 'open'; reconnected: boolean }
  | { state: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { state: 'closed'; error?: ComfyError };

export interface WatchOptions {
  onState?: (state: SocketState) => void;
  /** Reconnect attempts after a drop before giving up (default 8). */
  maxAttempts?: number;
  /** First reconnect delay, doubled per attempt up to maxDelayMs (defaults 200 and 5000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A ping that gets no pong within timeoutMs marks the socket dead (default 15000). */
  pingIntervalMs?: number;
}

export interface ComfyWatch {
  /** Resolves when the first connection is open; rejects with a typed error (401, unreachable, timeout...). */
  readonly ready: Promise<void>;
  send(message: { type: string; data: unknown }): void;
  close(): void;
}

interface SocketTarget {
  /** Carries the token: only ever handed to `ws`, never shown. */
  url: string;
  /** The same without credentials, for messages. */
  displayUrl: string;
  timeoutMs: number;
  hadToken: boolean;
}

/** ComfyUI's largest messages are preview images (a few hundred KB); a bigger one is not ComfyUI. */
export const MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Errors that retrying cannot fix. */
function isFatal(err: ComfyError): boolean {
  return err.kind === 'unauthorized' || err.kind === 'forbidden-origin' || err.kind === 'malformed-auth' || err.kind === 'not-found';
}

/**
 * Keeps a WebSocket to ComfyUI's /ws open: the same clientId across reconnects (so the server
 * keeps routing this client's prompt events to it), exponential backoff after a drop, a
 * handshake timeout, and a ping watchdog for half-open connections.
 */
export function openWatch(target: SocketTarget, onMessage: (msg: ComfyMessage) => void, opts: WatchOptions = {}): ComfyWatch {
  const maxAttempts = opts.maxAttempts ?? 8;
  const baseDelay = opts.baseDelayMs ?? 200;
  const maxDelay = opts.maxDelayMs ?? 5000;
  const pingEvery = opts.pingIntervalMs ?? 15_000;
  let ws: WebSocket | undefined;
  let closed = false;
  let everOpen = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: ComfyError) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined); // callers that never await ready still get onState

  const finish = (error?: ComfyError) => {
    if (closed) return;
    closed = true;
    clearTimeout(retryTimer);
    if (!everOpen) rejectReady(error ?? new ComfyError('unreachable', `WebSocket ${target.displayUrl}: closed before it connected`));
    opts.onState?.({ state: 'closed', error });
  };

  const connect = () => {
    let failure: ComfyError | undefined;
    let pingTimer: NodeJS.Timeout | undefined;
    let alive = true;
    const sock = new WebSocket(target.url, { handshakeTimeout: target.timeoutMs, perMessageDeflate: false, maxPayload: MAX_WS_MESSAGE_BYTES });
    ws = sock;

    sock.on('unexpected-response', (_req, res) => {
      failure = errorForStatus(res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), `WebSocket ${target.displayUrl}`, target.hadToken);
      res.resume();
      sock.terminate(); // aborts the handshake and emits error + close
    });
    sock.on('error', (err: Error & { code?: string }) => {
      failure ??= /handshake has timed out/i.test(err.message)
        ? new ComfyError('timeout', `WebSocket ${target.displayUrl}: no handshake within ${target.timeoutMs} ms`, 'Is ComfyUI busy or hung?')
        : err.code?.startsWith('WS_ERR_')
          ? new ComfyError('bad-response', `WebSocket ${target.displayUrl}: the server broke the WebSocket protocol (${err.message})`, 'Is this URL really a ComfyUI server?')
          : errorForNetwork(err, target.displayUrl, target.timeoutMs);
      // ws answers a protocol error with a close handshake and waits 30 s for the peer's reply; a broken server never sends one.
      sock.terminate();
    });
    sock.on('open', () => {
      const reconnected = everOpen;
      everOpen = true;
      attempt = 0;
      resolveReady();
      opts.onState?.({ state: 'open', reconnected });
      pingTimer = setInterval(() => {
        if (!alive) return sock.terminate();
        alive = false;
        sock.ping();
      }, pingEvery);
    });
    sock.on('pong', () => {
      alive = true;
    });
    sock.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      onMessage(isBinary ? parseBinaryMessage(buf) : parseTextMessage(buf.toString('utf8')));
    });
    sock.on('close', () => {
      clearInterval(pingTimer);
      if (closed) return;
      const err = failure ?? new ComfyError('unreachable', `WebSocket ${target.displayUrl}: connection closed by the server`);
      // The first connection fails fast; a drop after success is retried unless retrying cannot help.
      if (!everOpen || isFatal(err) || attempt >= maxAttempts) return finish(err);
      attempt += 1;
      const delayMs = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
      opts.onState?.({ state: 'reconnecting', attempt, delayMs, reason: err.message });
      retryTimer = setTimeout(connect, delayMs);
    });
  };

  connect();
  return {
    ready,
    send(message) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    },
    close() {
      finish();
      ws?.close();
    },
  };
}
