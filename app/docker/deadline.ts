/**
 * A deadline on every Docker engine call, whatever the connection (unix socket, tcp, ssh):
 * the modem's dial, where every dockerode call passes, gets an abort signal that fires when
 * the call has not completed in time. A call returning a stream (logs, events, exec, build)
 * must have its response by then; the stream itself then lives as long as its caller wants.
 */
import type Docker from 'dockerode';
import { deadline } from '../deadline.js';

interface DialOptions {
  path?: string;
  method?: string;
  options?: Record<string, unknown>;
  isStream?: boolean;
  hijack?: boolean;
  abortSignal?: AbortSignal;
}
type DialCallback = (err: unknown, data?: unknown) => void;
interface Modem {
  dial(this: Modem, options: DialOptions, callback: DialCallback): void;
  timeout?: number;
}

/**
 * Calls that change a container (create, start, stop, restart, kill, remove) do seconds of
 * real work on a busy host where an inspect takes milliseconds: they get this many times the
 * base deadline (30 s with the default docker.timeoutMs of 5 s).
 */
const LIFECYCLE_FACTOR = 6;
const LIFECYCLE = /^\/(?:v[\d.]+\/)?containers\/(?:create|[^/]+\/(start|stop|restart|kill))$/;
const REMOVE = /^\/(?:v[\d.]+\/)?containers\/[^/]+$/;

/** How long one call may take: baseMs; a lifecycle call more, and a stop or restart its `t` seconds on top (Docker's default 10). */
export function deadlineFor(options: DialOptions, baseMs: number): number {
  const pathname = (options.path ?? '').split('?')[0] ?? '';
  const m = options.method === 'POST' ? LIFECYCLE.exec(pathname) : undefined;
  if (!m && !(options.method === 'DELETE' && REMOVE.test(pathname))) return baseMs;
  const waits = m?.[1] === 'stop' || m?.[1] === 'restart';
  const t = Number(options.options?.t ?? 10);
  return LIFECYCLE_FACTOR * baseMs + (waits ? (Number.isFinite(t) && t >= 0 ? t : 10) * 1000 : 0);
}

/** The error a call past its deadline fails with; classifyDockerError reads it as a timeout. */
export class DockerDeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly what: string,
    readonly timedOutAfterMs: number,
  ) {
    super(`the Docker engine did not answer ${what} within ${timedOutAfterMs} ms`);
    this.name = 'DockerDeadlineError';
  }
}

/**
 * The client with a deadline on every call (baseMs for short calls; stop/restart get their `t`
 * on top). A view of the given client, which is left as it is: its modem's idle timeout, which
 * a trickling answer never trips, is replaced by the deadline in the view only.
 */
export function withDeadlines(docker: Docker, baseMs: number): Docker {
  const original = docker.modem as unknown as Modem;
  const modem = Object.create(original) as Modem;
  modem.timeout = undefined;
  modem.dial = function dial(options, callback) {
    const ms = deadlineFor(options, baseMs);
    const what = `${options.method ?? 'GET'} ${(options.path ?? '').split('?')[0]}`;
    let late: DockerDeadlineError | undefined;
    const d = deadline(ms, () => (late = new DockerDeadlineError(what, ms)));
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, d.signal]) : d.signal;
    original.dial.call(this, { ...options, abortSignal: signal }, (err, data) => {
      d.clear();
      callback(err && late ? late : err, data);
    });
  };
  const client = Object.create(docker) as Docker;
  Object.defineProperty(client, 'modem', { value: modem });
  return client;
}
