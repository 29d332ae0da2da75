import { z } from 'zod';
import { ComfyError, errorForNetwork, errorForStatus } from './errors.js';

export { ComfyError, isComfyError, type ComfyErrorKind } from './errors.js';

export interface ComfyClientOptions {
  /** e.g. http://127.0.0.1:8188 (a trailing slash is ignored). */
  baseUrl: string;
  /** The bcrypt hash from login/PASSWORD; undefined when the server has no login node. */
  token?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface ProbeResult {
  /** HTTP status, or null when the server could not be reached in time. */
  status: number | null;
  latencyMs: number;
  /** Why the probe did not get a 200, in words an operator can act on; never contains the token. */
  error?: string;
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { Authorization: `Bearer ${token}` };
}

/**
 * GET /system_stats with the token: the one probe of "is ComfyUI up and does it take this token"
 * that health checks and token rotation share.
 */
export async function probeAuth(baseUrl: string, token: string | undefined, timeoutMs: number): Promise<ProbeResult> {
  const url = `${trimBase(baseUrl)}/system_stats`;
  const started = performance.now();
  try {
    const res = await fetch(url, { headers: authHeaders(token), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    const latencyMs = performance.now() - started;
    if (res.status === 200) return { status: 200, latencyMs };
    const err = errorForStatus(res.status, res.headers.get('content-type') ?? '', 'GET /system_stats', token !== undefined);
    return { status: res.status, latencyMs, error: err.message };
  } catch (e) {
    return { status: null, latencyMs: performance.now() - started, error: errorForNetwork(e, url, timeoutMs).message };
  }
}
