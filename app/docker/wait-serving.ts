import { setTimeout as sleep } from 'node:timers/promises';
import { probeAuth } from '../comfy/client.js';
import type { PanelConfig } from '../config/schema.js';
import type { ContainerStatus, LoginNodeReport } from '../contract/ops/container.js';
import { PanelError } from '../errors.js';
import type { ContainerManager } from './manager.js';
import { publishedUrl } from './login-node.js';
import { exitCodeText } from './state.js';

/** The part of ContainerManager the wait needs (injectable for tests). */
export interface ServedContainer {
  readonly name: string;
  status(): Promise<ContainerStatus>;
  logs(opts: { tail: number; onLine: (l: { text: string }) => void }): Promise<number>;
}

export interface WaitServingOptions {
  /** config comfyui.url */
  url: string;
  /** SECRET: the token to ask with (authenticated GET /system_stats); undefined asks anonymously. */
  token?: string;
  timeoutMs: number;
  /** Deadline of each request (config comfyui.timeoutMs). */
  requestTimeoutMs: number;
  /** The container's restart count before the (re)start: a higher one means it crashed and Docker restarted it. */
  restartCountBefore?: number;
  /** Pause between polls. */
  pollMs?: number;
}

export interface Serving {
  /** The HTTP status of the first answer (200, or 401 when the server refuses the token). */
  status: number;
  waitedMs: number;
}

const LAST_LINES = 8;

async function lastLines(c: ServedContainer): Promise<string> {
  const lines: string[] = [];
  await c.logs({ tail: LAST_LINES, onLine: (l) => void lines.push(l.text) }).catch(() => undefined);
  return lines.length ? `; its last log lines:\n  ${lines.join('\n  ')}` : '';
}

/**
 * Waits until ComfyUI itself answers (GET /system_stats), polling the server instead of Docker's
 * healthcheck, whose status only changes at its next run (up to a whole interval after ComfyUI
 * listens). Any HTTP answer ends the wait: ComfyUI-Login reads PASSWORD at start, so what the
 * server answers now is final and the caller judges it. Gives up at once on a container that
 * exited, or that crashed and was restarted by its policy, naming the exit code and the last log lines.
 */
export async function waitServing(c: ServedContainer, opts: WaitServingOptions): Promise<Serving> {
  const started = performance.now();
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    const s = await c.status();
    if (!s.exists) throw new PanelError(`${c.name} does not exist`, 'container-gone', 'Create and start it: `comfy-panel container up`.');
    const looped = opts.restartCountBefore !== undefined && (s.restartCount ?? 0) > opts.restartCountBefore;
    if (s.phase === 'crashed' || s.phase === 'stopped' || s.phase === 'created' || looped) {
      const how = s.exitCode !== undefined ? ` (${exitCodeText(s.exitCode, s.oomKilled)})` : '';
      const what = looped && s.phase !== 'stopped' && s.phase !== 'created' ? `is restart-looping: it exited${how} and Docker restarted it ${s.restartCount} times` : `exited${how} instead of serving ComfyUI`;
      throw new PanelError(`${c.name} ${what}${await lastLines(c)}`, 'container-exited', 'Read `comfy-panel container logs` for the cause (a secret the container user cannot read, a missing password, a failed import), fix it, then start again.');
    }
    const r = await probeAuth(opts.url, opts.token, opts.requestTimeoutMs);
    if (r.status !== null) return { status: r.status, waitedMs: Math.round(performance.now() - started) };
    lastError = r.error ?? lastError;
    if (Date.now() > deadline) {
      throw new PanelError(
        `ComfyUI did not answer at ${opts.url} within ${Math.round(opts.timeoutMs / 1000)} s of the start (${lastError})${await lastLines(c)}`,
        'comfy-unreachable',
        'Check comfyui.url and the published port; `comfy-panel container logs` shows whether ComfyUI is still loading.',
      );
    }
    await sleep(opts.pollMs ?? 100);
  }
}

export interface Readiness extends Serving {
  /** ComfyUI answers and, when config container.authRequired, ComfyUI-Login protects it. */
  ok: boolean;
  /** Why not, one sentence each (the login-node facts that are not true). */
  reasons: string[];
  loginNode?: LoginNodeReport;
}

/**
 * What `container up`/`restart` wait for: ComfyUI answers (waitServing), then, when auth is
 * required, every ComfyUI-Login fact holds (installed, loaded, enforced: no empty-token pass,
 * token support, no CORS-only tokens). "Serving" alone is never reported as healthy.
 */
export async function waitReady(m: ContainerManager, config: PanelConfig, opts: { token?: string; timeoutMs: number; restartCountBefore?: number }): Promise<Readiness> {
  // Behind the gateway ComfyUI is not published: the panel asks it on the private network.
  const url = config.gateway.enabled ? (publishedUrl(await m.status(), config.container.containerPort, m.target) ?? config.comfyui.url) : config.comfyui.url;
  const serving = await waitServing(m, {
    url,
    ...(opts.token ? { token: opts.token } : {}),
    timeoutMs: opts.timeoutMs,
    requestTimeoutMs: config.comfyui.timeoutMs,
    ...(opts.restartCountBefore !== undefined ? { restartCountBefore: opts.restartCountBefore } : {}),
  });
  if (!config.container.authRequired) return { ...serving, ok: true, reasons: [] };
  const loginNode = await m.verifyLoginNode(opts.token ? { token: opts.token } : {});
  const reasons = (['installed', 'loaded', 'enforced'] as const).filter((f) => loginNode[f].value !== true).map((f) => `ComfyUI-Login ${f}: ${loginNode[f].value === null ? 'unknown' : 'NO'} — ${loginNode[f].detail}`);
  return { ...serving, ok: reasons.length === 0, reasons, loginNode };
}
