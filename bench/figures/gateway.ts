/**
 * The gateway's figures, against the containers (test/gateway/rig.ts): what it adds to a
 * GET /system_stats and to an 8 MB /view over going straight to the double's container, the
 * delay it adds to relayed WebSocket messages, 500 concurrent clients, and the per-request
 * key check. "Direct" and "through the gateway" both go from this host to a container's
 * address on the private network, so the figure is the gateway's cost, not docker-proxy's.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import bcrypt from 'bcryptjs';
import { pack } from 'tar-stream';
import WebSocket from 'ws';
import { createKey } from '../../app/gateway/keys.js';
import { KeyRing } from '../../app/gateway/ring.js';
import { qwenGraph } from '../../test/comfy-double/graphs.js';
import { encodePng } from '../../test/comfy-double/png.js';
import { startRig, waitFor } from '../../test/gateway/rig.js';
import { benchDocker } from '../support/docker.js';
import { measurement, type Figure } from '../measurement.js';

const STEPS = 3400;

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** GETs `url` on `agent`; resolves with the status and the body length. */
function get(url: string, headers: Record<string, string>, agent: Agent | false): Promise<{ status: number; bytes: number }> {
  return new Promise((ok, fail) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers, agent, timeout: 30_000 }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => ok({ status: res.statusCode ?? 0, bytes }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  });
}

/** A PNG of about 8 MB (random pixels do not compress). */
function bigPng(): Buffer {
  const side = 1680; // 1680² RGB pixels: 8.1 MB
  const noise = randomBytes(side * side * 4);
  return encodePng(side, side, (x, y) => {
    const i = (y * side + x) * 4;
    return [noise[i]!, noise[i + 1]!, noise[i + 2]!];
  });
}

export const gatewayFigure: Figure = {
  id: 'gateway',
  title: 'Gateway: added latency, /view throughput, WebSocket relay, concurrency, key check',
  async run(sizes, progress) {
    const docker = await benchDocker();
    const rig = await startRig(docker, { samplerMs: STEPS * 2, models: true });
    try {
      const key = await rig.key('bench', 'admin');
      const comfy = await rig.comfyUrl();
      const gwIp = Object.values((await rig.gateway.inspect()).NetworkSettings.Networks)[0]!.IPAddress;
      const gw = `http://${gwIp}:8189`;
      const viaGateway = { Authorization: `Bearer ${key.key}` };
      const direct = { Authorization: `Bearer ${rig.hash}` };
      await waitFor('the bench key', async () => ((await get(`${gw}/system_stats`, viaGateway, false)).status === 200 ? true : undefined));
      const out = [];

      // 1. latency, sequential on keep-alive connections, sides alternating per round
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const lat = { gw: [] as number[], direct: [] as number[] };
      const perRound = Math.max(50, Math.floor(sizes.requests / 4));
      for (let round = 0; round < 8; round++) {
        for (const side of round % 2 ? (['direct', 'gw'] as const) : (['gw', 'direct'] as const)) {
          for (let i = 0; i < perRound; i++) {
            const t = performance.now();
            const r = await get(side === 'gw' ? `${gw}/system_stats` : `${comfy}/system_stats`, side === 'gw' ? viaGateway : direct, agent);
            if (r.status !== 200) throw new Error(`GET /system_stats ${side} answered ${r.status}`);
            if (round > 0) lat[side].push(performance.now() - t); // round 0 warms both
          }
        }
      }
      agent.destroy();
      const p50 = { gw: percentile(lat.gw, 0.5), direct: percentile(lat.direct, 0.5) };
      const p99 = { gw: percentile(lat.gw, 0.99), direct: percentile(lat.direct, 0.99) };
      progress(`gateway: ${lat.gw.length} requests per side`);
      out.push(
        measurement({ id: 'gateway.latency-p50', label: `GET /system_stats through the gateway, p50 of ${lat.gw.length} sequential keep-alive requests`, value: p50.gw, unit: 'ms', baseline: p50.direct, baselineLabel: 'direct to the double container, same client', target: { kind: 'value-max', limit: p50.direct + 1, text: '<= direct + 1 ms' } }),
        measurement({ id: 'gateway.latency-p99', label: `GET /system_stats through the gateway, p99 of ${lat.gw.length}`, value: p99.gw, unit: 'ms', baseline: p99.direct, baselineLabel: 'direct to the double container', target: { kind: 'value-max', limit: p99.direct + 5, text: '<= direct + 5 ms' } }),
      );

      // 2. /view of an 8 MB PNG
      const png = bigPng();
      const tar = pack();
      tar.entry({ name: 'big_00001_.png', mode: 0o644 }, png);
      tar.finalize();
      await rig.comfy.putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/workspace/ComfyUI/output' });
      const view = '/view?filename=big_00001_.png&type=output';
      const big = new Agent({ keepAlive: true, maxSockets: 1 });
      const secs = { gw: 0, direct: 0 };
      const fetches = 12;
      for (let round = 0; round < fetches + 2; round++) {
        for (const side of round % 2 ? (['direct', 'gw'] as const) : (['gw', 'direct'] as const)) {
          const t = performance.now();
          const r = await get(side === 'gw' ? `${gw}${view}` : `${comfy}${view}`, side === 'gw' ? viaGateway : direct, big);
          if (r.status !== 200 || r.bytes !== png.length) throw new Error(`GET /view ${side}: ${r.status}, ${r.bytes} bytes`);
          if (round >= 2) secs[side] += (performance.now() - t) / 1000;
        }
      }
      big.destroy();
      const mb = (png.length * fetches) / 2 ** 20;
      const thr = { gw: mb / secs.gw, direct: mb / secs.direct };
      out.push(measurement({ id: 'gateway.view-throughput', label: `GET /view of a ${(png.length / 2 ** 20).toFixed(1)} MB PNG through the gateway, ${fetches} sequential fetches`, value: thr.gw, unit: 'MB/s', baseline: thr.direct, baselineLabel: 'direct to the double container', target: { kind: 'value-min', limit: thr.direct * 0.9, text: '>= 90% of direct' } }));
      progress('gateway: /view done');

      // 3. WebSocket relay: a prompt without client_id is broadcast, so both sockets get every message
      const arrivals = { gw: [] as { at: number; sig: string }[], direct: [] as { at: number; sig: string }[] };
      const open = (side: 'gw' | 'direct') =>
        new Promise<WebSocket>((ok, fail) => {
          const ws = side === 'gw' ? new WebSocket(`ws://${gwIp}:8189/ws?clientId=bench-gw&token=${key.key}`) : new WebSocket(`${comfy.replace('http', 'ws')}/ws?clientId=bench-direct`, { headers: direct });
          ws.on('message', (data: Buffer, binary) => {
            const text = binary ? '' : data.toString();
            // The first status frame names each socket's own sid: not a relayed broadcast.
            if (!binary && text.includes('"sid"')) return;
            arrivals[side].push({ at: performance.now(), sig: binary ? `bin:${data.length}` : text });
          });
          ws.once('open', () => ok(ws));
          ws.once('error', fail);
        });
      const sockets = await Promise.all([open('gw'), open('direct')]);
      const sent = await fetch(`${gw}/prompt`, { method: 'POST', headers: viaGateway, body: JSON.stringify({ prompt: qwenGraph({ width: 64, height: 64, steps: STEPS, prefix: 'bench' }) }) });
      if (sent.status !== 200) throw new Error(`POST /prompt answered ${sent.status}`);
      const { prompt_id: id } = (await sent.json()) as { prompt_id: string };
      // Without a client id ComfyUI sends no end-of-prompt message: its history entry says it is done.
      await waitFor('the end of the broadcast prompt', async () => ((await (await fetch(`${gw}/history/${id}`, { headers: viaGateway })).json()) as Record<string, unknown>)[id], 300_000);
      const settled = async () => {
        let count = -1;
        while (count !== arrivals.gw.length + arrivals.direct.length) {
          count = arrivals.gw.length + arrivals.direct.length;
          await new Promise((r) => setTimeout(r, 300));
        }
      };
      await settled();
      for (const s of sockets) s.close();
      const n = Math.min(arrivals.gw.length, arrivals.direct.length);
      const inOrder = arrivals.gw.length === arrivals.direct.length && arrivals.gw.every((m, i) => m.sig === arrivals.direct[i]!.sig);
      if (!inOrder) throw new Error(`relayed messages differ: ${arrivals.gw.length} through the gateway, ${arrivals.direct.length} direct`);
      const delays = Array.from({ length: n }, (_, i) => arrivals.gw[i]!.at - arrivals.direct[i]!.at);
      out.push(measurement({ id: 'gateway.ws-added-p99', label: `p99 added delay of ${n} WebSocket messages relayed in order (text and binary)`, value: Math.max(0.001, percentile(delays, 0.99)), unit: 'ms', baseline: Math.max(0.001, percentile(delays, 0.5)), baselineLabel: 'p50 added delay, same messages', target: { kind: 'value-max', limit: 5, text: '<= 5 ms' }, note: n < 10_000 ? `only ${n} messages` : `${n} messages` }));
      progress('gateway: WebSocket relay done');

      // 4. 500 concurrent clients, each on its own connection
      const burst = async (url: string, headers: Record<string, string>) => {
        const results = await Promise.all(Array.from({ length: 500 }, () => get(url, headers, false).then((r) => r.status === 200, () => false)));
        return (100 * results.filter(Boolean).length) / results.length;
      };
      const gwRate = await burst(`${gw}/system_stats`, viaGateway);
      const directRate = await burst(`${comfy}/system_stats`, direct);
      out.push(measurement({ id: 'gateway.concurrent-500', label: '500 concurrent clients (one connection each), GET /system_stats through the gateway', value: gwRate, unit: '%', baseline: directRate, baselineLabel: 'the same 500 direct to the double container', target: { kind: 'value-min', limit: 100, text: '= 100%' } }));

      // 5. the per-request key check, in this process: a ring of 1,000 keys
      const dir = `${tmpdir()}/gw-bench-ring-${process.pid}`;
      const made = [];
      for (let i = 0; i < 1000; i++) made.push(await createKey(dir, { name: `k${i}`, scope: 'read' }));
      const ring = new KeyRing(dir);
      await ring.start(60_000);
      const iterations = 200_000;
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) if (!ring.verify(made[i % made.length]!.key)) throw new Error('a valid key was refused');
      const perKey = ((performance.now() - t0) * 1000) / iterations;
      ring.stop();
      const hash = bcrypt.hashSync('x', 10);
      const t1 = performance.now();
      for (let i = 0; i < 3; i++) bcrypt.compareSync('x', hash);
      const perBcrypt = ((performance.now() - t1) * 1000) / 3;
      await (await import('node:fs/promises')).rm(dir, { recursive: true, force: true });
      out.push(measurement({ id: 'gateway.key-verify', label: `key check per request (SHA-256 + map lookup), mean of ${iterations} against 1,000 keys`, value: perKey, unit: 'µs', baseline: perBcrypt, baselineLabel: 'one bcrypt compare at cost 10 (what a password hash would cost)', target: { kind: 'value-max', limit: 50, text: '<= 50 µs' } }));
      return out;
    } finally {
      await rig.close();
    }
  },
};
