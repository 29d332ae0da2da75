/**
 * The front door's checks (issue 18): the gateway is up, ComfyUI cannot be reached around it,
 * and keys are enforced end to end (a `read` key is let through, a revoked one refused). With
 * gateway.enabled false each says so and passes: there is no gateway to hold to account.
 */
import net from 'node:net';
import { withDeadline } from '../../deadline.js';
import { createKey, deleteKeys, revokeKey } from '../../gateway/keys.js';
import { fail, ok, unknown, type HealthCheck, type Verdict } from '../check.js';
import type { SweepContext } from '../sweep-context.js';

const OFF = ok('the gateway is off (gateway.enabled is false): clients use ComfyUI-Login\'s shared token');
const gatewayFix = { text: 'Start it: `comfy-panel gateway up` (see `comfy-panel gateway logs` for why it is down).' };
const recreateFix = { text: 'Run `comfy-panel container recreate`: the ComfyUI container joins the gateway\'s network without a published port.' };

export const gatewayUpCheck: HealthCheck = {
  id: 'gateway-up',
  title: 'Gateway up',
  async run(ctx) {
    if (!ctx.config.gateway.enabled) return OFF;
    const g = await ctx.gateway();
    if (g.state === 'healthy' && g.reachable) return ok(`the gateway answers at ${g.url}`);
    if (g.state === 'unknown') return unknown('the Docker engine could not be asked about the gateway container');
    if (g.state === 'healthy') return fail(`the gateway container is healthy but ${g.url} does not answer from here`, { text: 'Check gateway.bindAddress and gateway.hostPort, and that nothing else holds that port.' });
    return fail(`the gateway container ${g.container.name} is ${g.state}`, gatewayFix);
  },
};

/** Whether anything accepts a TCP connection at host:port within the time given. */
function listening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const gatewayHidesComfyCheck: HealthCheck = {
  id: 'gateway-hides-comfyui',
  title: 'ComfyUI only behind the gateway',
  async run(ctx) {
    if (!ctx.config.gateway.enabled) return OFF;
    const g = await ctx.gateway();
    if (g.upstream.state === 'unknown') return unknown('the Docker engine could not be asked about the ComfyUI container');
    if (g.upstream.publishedPorts.length) return fail(`ComfyUI publishes ${g.upstream.publishedPorts.join(', ')}: clients can go around the gateway`, recreateFix);
    if (g.upstream.state !== 'absent' && !g.upstream.onNetwork) return fail(`ComfyUI (${g.upstream.container}) is not on the gateway's network ${ctx.config.gateway.network}`, recreateFix);
    // Docker says nothing is published; the host port must be closed too (no leftover proxy or old container).
    const c = ctx.config.container;
    const host = ['0.0.0.0', '::', ''].includes(c.bindAddress) ? '127.0.0.1' : c.bindAddress;
    if (await listening(host, c.hostPort, Math.min(2000, ctx.config.health.checkTimeoutMs))) {
      return fail(`something still accepts connections on ComfyUI's old port ${host}:${c.hostPort}`, { text: 'Find and stop it (`ss -ltnp`); only the gateway should be published.' });
    }
    return ok(`ComfyUI has no published port; only the gateway (${g.url}) reaches it`);
  },
};

const PROBE_NAME = 'panel-health-probe';

async function statusWith(url: string, key: string, timeoutMs: number): Promise<number | null> {
  try {
    return await withDeadline(timeoutMs, async (signal) => {
      const res = await fetch(new URL('/system_stats', url), { headers: { Authorization: `Bearer ${key}` }, signal });
      await res.body?.cancel();
      return res.status;
    });
  } catch {
    return null;
  }
}

/** Polls until the gateway answers `want` (its key store reloads every 250 ms) or the time is up. */
async function until(url: string, key: string, want: number, deadline: number, signal?: AbortSignal): Promise<number | null> {
  for (;;) {
    const s = await statusWith(url, key, Math.max(200, deadline - Date.now()));
    if (s === want || Date.now() >= deadline || signal?.aborted) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A short-lived `read` key of the panel's own: let through, then revoked and refused, then deleted. */
async function probeKeys(ctx: SweepContext, signal?: AbortSignal): Promise<Verdict> {
  const g = await ctx.gateway();
  if (g.state !== 'healthy' || !g.reachable) return unknown('the gateway is not up (see "Gateway up")');
  const stateDir = ctx.gatewayManager().state;
  // A probe left by an interrupted sweep is revoked first, so the name is free.
  await revokeKey(stateDir, PROBE_NAME).catch(() => undefined);
  const budget = ctx.config.health.checkTimeoutMs;
  const probe = await createKey(stateDir, { name: PROBE_NAME, scope: 'read', expiresAt: new Date(Date.now() + 10 * 60_000) });
  try {
    const let_ = await until(g.url, probe.key, 200, Date.now() + budget / 2, signal);
    if (let_ !== 200) return fail(`a fresh read key got ${let_ ?? 'no answer'} on /system_stats instead of 200`, { text: 'See `comfy-panel gateway logs`: is ComfyUI behind it up, and does the gateway read its key store?' });
    await revokeKey(stateDir, probe.id);
    const refused = await until(g.url, probe.key, 401, Date.now() + budget / 2, signal);
    if (refused !== 401) return fail(`a revoked key still got ${refused ?? 'no answer'} instead of 401`, { text: 'The gateway does not follow its key store: restart it (`comfy-panel gateway down` then `up`) and check its logs.' });
    return ok('a read key is let through and refused once revoked');
  } finally {
    await deleteKeys(stateDir, [probe.id]).catch(() => undefined);
  }
}

export const gatewayKeysCheck: HealthCheck = {
  id: 'gateway-keys',
  title: 'Gateway keys enforced',
  run: (ctx, signal) => (ctx.config.gateway.enabled ? probeKeys(ctx, signal) : Promise.resolve(OFF)),
};
