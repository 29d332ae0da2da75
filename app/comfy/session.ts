import { errorMessage } from '../errors.js';
import type { ProbeResult } from './client.js';
import { withDeadline } from '../deadline.js';

const trim = (url: string) => url.replace(/\/+$/, '');

/**
 * Logs in through ComfyUI-Login's form as a browser does; the `AIOHTTP_SESSION` cookie (SECRET)
 * as a Cookie header value, or undefined when the server gave none (wrong password, no node).
 */
export async function openBrowserSession(baseUrl: string, password: string, timeoutMs: number): Promise<string | undefined> {
  const res = await withDeadline(timeoutMs, async (signal) => {
    const r = await fetch(`${trim(baseUrl)}/login`, { method: 'POST', body: new URLSearchParams({ username: 'comfy-panel', password }), redirect: 'manual', signal });
    await r.body?.cancel();
    return r;
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  return cookie?.startsWith('AIOHTTP_SESSION=') ? cookie : undefined;
}

/** GET /system_stats with only this session cookie: 200 while the session is valid, 401 once its key is gone. */
export async function probeBrowserSession(baseUrl: string, cookie: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const res = await withDeadline(timeoutMs, async (signal) => {
      const r = await fetch(`${trim(baseUrl)}/system_stats`, { headers: { cookie, accept: 'application/json' }, redirect: 'manual', signal });
      await r.body?.cancel();
      return r;
    });
    return { status: res.status, latencyMs: performance.now() - started };
  } catch (e) {
    return { status: null, latencyMs: performance.now() - started, error: errorMessage(e) };
  }
}
