import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { CheckResult, CheckStatus } from '../../app/contract/ops/health.js';
import type { HealthCheck } from '../../app/health/check.js';
import { authRejectsAnonymousCheck } from '../../app/health/checks/auth-rejects-anonymous.js';
import { HealthHistory, HISTORY_LENGTH } from '../../app/health/history.js';
import { HealthMonitor } from '../../app/health/monitor.js';
import type { StateChange } from '../../app/health/notifier.js';
import { MAX_IN_FLIGHT, percentile, probeAuthRate } from '../../app/health/probe.js';
import { runSweep } from '../../app/health/runner.js';
import { SweepContext } from '../../app/health/sweep-context.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'health-fw-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
afterAll(() => rmSync(home, { recursive: true, force: true }));

function config(extra: Record<string, unknown> = {}): PanelConfig {
  return parseConfig({ health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 300, probeRequests: 50 }, ...extra });
}
const newContext = (cfg = config()) => () => new SweepContext({ config: cfg, paths, configFile: paths.configFile });

/** A check whose successive statuses are scripted. */
function scripted(id: string, statuses: CheckStatus[]): HealthCheck & { runs: number; contexts: Set<SweepContext> } {
  const check = {
    id,
    title: id,
    runs: 0,
    contexts: new Set<SweepContext>(),
    async run(ctx: SweepContext) {
      check.contexts.add(ctx);
      const status = statuses[Math.min(check.runs++, statuses.length - 1)]!;
      return { status, message: `${id} is ${status}`, ...(status === 'fail' ? { fix: { text: 'do something' } } : {}) };
    },
  };
  return check;
}

describe('runner', () => {
  it('times out a check on a server that never answers without delaying the others', async () => {
    // A TCP server that accepts and never replies: probeAuth would wait comfyui.timeoutMs (5 s).
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    const cfg = config({ comfyui: { url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 } });
    const order: string[] = [];
    const fast = scripted('fast', ['ok']);
    try {
      const results = await runSweep([authRejectsAnonymousCheck, fast], newContext(cfg), { timeoutMs: 300, retries: 0, onResult: (r) => order.push(r.id) });
      const hung = results.find((r) => r.id === 'auth-rejects-anonymous')!;
      expect(hung.status).toBe('fail');
      expect(hung.message).toMatch(/no answer within 300 ms/);
      expect(hung.fix?.text).toMatch(/checkTimeoutMs/);
      expect(results.find((r) => r.id === 'fast')?.status).toBe('ok');
      expect(order).toEqual(['fast', 'auth-rejects-anonymous']);
      expect(sockets.length).toBeGreaterThan(0); // it really hung on the socket
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("aborts a timed-out check's work, and leaves the signal of a check that answered alone", async () => {
    const signals = new Map<string, AbortSignal>();
    const hangs: HealthCheck = { id: 'hangs', title: 'Hangs', run: (_ctx, signal) => (signals.set('hangs', signal!), new Promise(() => undefined)) };
    const answers: HealthCheck = { id: 'answers', title: 'Answers', run: async (_ctx, signal) => (signals.set('answers', signal!), { status: 'ok', message: 'fine' }) };
    const results = await runSweep([hangs, answers], newContext(), { timeoutMs: 100, retries: 0 });
    expect(results.map((r) => r.status)).toEqual(['fail', 'ok']);
    expect(signals.get('hangs')?.aborted).toBe(true);
    expect(signals.get('answers')?.aborted).toBe(false);
  });

  it('retries a failing check with a fresh context and declares a failure only when every attempt fails', async () => {
    const flaky = scripted('flaky', ['fail', 'ok']);
    const broken = scripted('broken', ['fail']);
    const results = await runSweep([flaky, broken], newContext(), { timeoutMs: 1_000, retries: 2, retryDelayMs: 1 });
    expect(results.map((r) => [r.id, r.status, r.attempts])).toEqual([
      ['flaky', 'ok', 2],
      ['broken', 'fail', 3],
    ]);
    expect(broken.contexts.size).toBe(3);
    // The first attempt of every check shares one context (one set of lookups per sweep).
    expect([...flaky.contexts][0]).toBe([...broken.contexts][0]);
  });

  it('turns a thrown error into unknown with a redacted message', async () => {
    const hash = `$2b$12$${'a'.repeat(53)}`;
    const throwing: HealthCheck = { id: 'boom', title: 'boom', run: async () => Promise.reject(new Error(`bad token ${hash}`)) };
    const [r] = await runSweep([throwing], newContext(), { timeoutMs: 1_000, retries: 1, retryDelayMs: 1 });
    expect(r?.status).toBe('unknown');
    expect(r?.attempts).toBe(1);
    expect(r?.message).not.toContain(hash);
    expect(r?.message).toMatch(/redacted fp:/);
  });
});

const result = (id: string, status: CheckStatus, checkedAt: string): CheckResult => ({ id, status, checkedAt, latencyMs: 1, message: status });

describe('history', () => {
  it('keeps the last 50 results, computes 24 h uptime from ok/warn vs fail, and reloads from disk', async () => {
    const file = path.join(home, 'hist-a.json');
    const h = await HealthHistory.load(file);
    const now = Date.parse('2026-01-02T12:00:00Z');
    h.record([result('a', 'fail', '2026-01-01T10:00:00Z')]); // older than 24 h: not in the uptime
    for (let i = 0; i < 60; i++) h.record([result('a', i % 4 === 0 ? 'fail' : i % 2 ? 'ok' : 'warn', new Date(now - (60 - i) * 60_000).toISOString())]);
    h.record([result('a', 'unknown', new Date(now).toISOString())]);
    expect(h.strip('a')).toHaveLength(HISTORY_LENGTH);
    expect(h.strip('a').at(-1)?.status).toBe('unknown');
    expect(h.uptime24h('a', now)).toBe(75);
    expect(h.uptime24h('never', now)).toBeNull();
    await h.save();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await HealthHistory.load(file);
    expect(again.strip('a')).toEqual(h.strip('a'));
    expect(again.uptime24h('a', now)).toBe(75);
    expect(again.lastCheckAt).toBe(new Date(now).toISOString());
  });

  it('sets a damaged file aside and starts afresh', async () => {
    const file = path.join(home, 'hist-b.json');
    writeFileSync(file, '{"format": "comfy-panel-health-history", "version": 1, "checks": [');
    const h = await HealthHistory.load(file);
    expect(h.ids()).toEqual([]);
    expect(readdirSync(home).some((f) => f.startsWith('hist-b.json.damaged-'))).toBe(true);
  });
});

describe('monitor', () => {
  it('notifies only on state changes, and a new instance reads the history back', async () => {
    const file = path.join(home, 'hist-monitor.json');
    const check = scripted('svc', ['ok', 'ok', 'fail', 'fail', 'ok', 'ok']);
    const changes: StateChange[] = [];
    const cfg = config();
    const events: CheckResult[] = [];
    const monitor = new HealthMonitor({
      checks: [check],
      deps: () => ({ config: cfg, paths, configFile: paths.configFile }),
      historyFile: file,
      notifier: { notify: (c) => void changes.push(c) },
      onResult: (r) => events.push(r),
    });
    for (let i = 0; i < 6; i++) await monitor.sweep();
    await new Promise((r) => setImmediate(r)); // notifications are delivered asynchronously
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(['ok->fail', 'fail->ok']);
    expect(events).toHaveLength(6);

    const reborn = new HealthMonitor({ checks: [check], deps: () => ({ config: cfg, paths, configFile: paths.configFile }), historyFile: file });
    const status = await reborn.status();
    expect(status.checks[0]?.history.map((p) => p.status)).toEqual(['ok', 'ok', 'fail', 'fail', 'ok', 'ok']);
    expect(status.checks[0]?.uptime24h).toBeCloseTo(66.7, 1);
    expect(status.lastCheckAt).toBe(status.checks[0]?.checkedAt);
    expect(status.monitoring).toBe(false);
  });

  it('a sweep asked while one is in flight sees what changed meanwhile (two Fix buttons within a second); callers meanwhile share that one sweep', async () => {
    // The state a Fix button changes (a smoke run recorded), and a gate that holds the first sweep's check in flight.
    let runRecorded = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const check: HealthCheck = {
      id: 'generation-like',
      title: 'race',
      async run() {
        const seen = runRecorded; // read at the start, as the generation check reads the run history
        if (++runs === 1) await gate;
        return seen ? { status: 'ok', message: 'the run succeeded' } : { status: 'unknown', message: 'no run yet' };
      },
    };
    const cfg = config({ health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 5_000, probeRequests: 1 } });
    const monitor = new HealthMonitor({ checks: [check], deps: () => ({ config: cfg, paths, configFile: paths.configFile }), historyFile: path.join(home, 'hist-race.json') });
    const first = monitor.sweep(); // Fix button 1's re-check
    await expect.poll(() => runs).toBe(1);
    runRecorded = true; // Fix button 2's smoke run lands while the first sweep runs
    const second = monitor.sweep();
    const third = monitor.sweep();
    release();
    expect((await first).checks[0]?.status).toBe('unknown');
    expect((await second).checks[0]?.status).toBe('ok');
    expect(await third).toBe(await second);
    expect(runs).toBe(2);
    expect((await monitor.status()).checks[0]?.status).toBe('ok');
  });

  it('sweeps at start, schedules the next one, and stops cleanly', async () => {
    const check = scripted('tick', ['ok']);
    const cfg = config();
    const monitor = new HealthMonitor({ checks: [check], deps: () => ({ config: cfg, paths, configFile: paths.configFile }), historyFile: path.join(home, 'hist-tick.json') });
    monitor.start();
    await expect.poll(() => check.runs).toBe(1);
    await expect.poll(async () => (await monitor.status()).nextCheckAt).not.toBeNull();
    const next = Date.parse((await monitor.status()).nextCheckAt!);
    expect(next).toBeGreaterThan(Date.now() + 3_000_000); // intervalSec 3600
    await monitor.stop();
    expect((await monitor.status()).nextCheckAt).toBeNull();
    expect(monitor.monitoring).toBe(false);
  });
});

describe('auth success-rate probe', () => {
  it('counts statuses and reports the success rate and latency percentiles over real requests', async () => {
    let n = 0;
    const token = `$2b$12$${'b'.repeat(53)}`;
    // Like the original flaky setup: some requests see an old credential (401).
    const server = http.createServer((req, res) => {
      const good = req.headers.authorization === `Bearer ${token}` && n++ % 5 !== 0;
      res.writeHead(good ? 200 : 401, { 'Content-Type': 'application/json' }).end(good ? '{}' : '{"error": "Authentication required."}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      const report = await probeAuthRate({ url, token, requests: 50, timeoutMs: 5_000 });
      expect(report.byStatus).toEqual({ '200': 40, '401': 10 });
      expect(report.successRate).toBe(80);
      expect(report.succeeded).toBe(40);
      expect(report.p50).toBeLessThanOrEqual(report.p95);
      expect(report.p95).toBeLessThanOrEqual(report.p99);
      expect(JSON.stringify(report)).not.toContain(token);
    } finally {
      server.close();
    }
  });

  it('keeps at most MAX_IN_FLIGHT requests open and still sends all of them', async () => {
    let open = 0;
    let peak = 0;
    const probe = async () => {
      peak = Math.max(peak, ++open);
      await new Promise((r) => setImmediate(r));
      open--;
      return { status: 200, latencyMs: 1 };
    };
    const report = await probeAuthRate({ url: 'http://unused', token: 't', requests: MAX_IN_FLIGHT + 50, timeoutMs: 1_000, probe });
    expect(report.byStatus).toEqual({ '200': MAX_IN_FLIGHT + 50 });
    expect(peak).toBe(MAX_IN_FLIGHT);
  });

  it('counts no answer as "error"', async () => {
    const report = await probeAuthRate({ url: 'http://127.0.0.1:9', token: 'x', requests: 3, timeoutMs: 1_000 });
    expect(report.byStatus).toEqual({ error: 3 });
    expect(report.successRate).toBe(0);
    expect(report.errors.length).toBeGreaterThan(0);
  });

  it('uses nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99), percentile([7], 99), percentile([], 50)]).toEqual([50, 95, 99, 7, 0]);
  });
});
