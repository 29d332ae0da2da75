// Notifications beyond the desktop, received by a real local HTTP server: each kind posts what its
// receiver expects, only on a state change, with the check, old and new state and the fix, and never a secret.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { CheckStatus } from '../../app/contract/ops/health.js';
import { HealthMonitor } from '../../app/health/monitor.js';
import { channelsNotifier, channelWhere, deliverAll, testMessage } from '../../app/notify/channels.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let server: http.Server;
let base: string;
const home = mkdtempSync(path.join(os.tmpdir(), 'notify-'));
const HASH = '$2b$12$' + 'Q'.repeat(53);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = req.url?.startsWith('/broken') ? 500 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(home, { recursive: true, force: true });
});

const config = () =>
  parseConfig({
    health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 1_000, probeRequests: 5 },
    notifications: {
      timeoutMs: 2_000,
      channels: [
        { name: 'hook', kind: 'webhook', url: `${base}/hook/secret-path-abc` },
        { name: 'phone', kind: 'ntfy', url: `${base}/comfy-alerts`, headers: { authorization: 'Bearer tk_ntfy' } },
        { name: 'team', kind: 'slack', url: `${base}/services/T000/B000/XXXX` },
        { name: 'guild', kind: 'discord', url: `${base}/api/webhooks/1/tok` },
        { name: 'off', kind: 'webhook', url: `${base}/off`, enabled: false },
      ],
    },
  }).notifications;

describe('notification channels', () => {
  it('posts a state change to every enabled channel in its own format, with the check, both states and the fix, and no secret', async () => {
    received.length = 0;
    let status: CheckStatus = 'ok';
    const monitor = new HealthMonitor({
      checks: [
        {
          id: 'auth-accepts-token',
          title: 'Vault token accepted',
          run: async () =>
            status === 'ok'
              ? { status, message: 'the token is accepted' }
              : { status, message: `ComfyUI refused the token ${HASH}`, fix: { text: "Write the vault's token to every location and restart ComfyUI.", explanation: 'The API token is the bcrypt hash.' } },
        },
      ],
      deps: () => ({ config: parseConfig({}), paths: panelPaths({ COMFY_PANEL_HOME: home }), configFile: path.join(home, 'config.json') }),
      historyFile: path.join(home, 'history.json'),
      notifier: channelsNotifier(config, 'panel on test'),
    });
    await monitor.sweep();
    await monitor.sweep();
    // A first result and an unchanged one are not changes.
    expect(received).toEqual([]);
    status = 'fail';
    await monitor.sweep();
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(4);
    const by = (p: string) => received.find((r) => r.path.startsWith(p))!;

    const hook = JSON.parse(by('/hook').body) as Record<string, unknown>;
    expect(hook).toMatchObject({
      event: 'health.changed',
      check: { id: 'auth-accepts-token', title: 'Vault token accepted' },
      from: 'ok',
      to: 'fail',
      fix: "Write the vault's token to every location and restart ComfyUI.",
      explanation: 'The API token is the bcrypt hash.',
      source: 'panel on test',
    });
    expect(by('/hook').headers['content-type']).toBe('application/json');

    const ntfy = by('/comfy-alerts');
    expect(ntfy.headers.title).toBe('panel on test: Vault token accepted OK -> FAILING');
    expect(ntfy.headers.priority).toBe('high');
    expect(ntfy.headers.authorization).toBe('Bearer tk_ntfy');
    expect(ntfy.body).toContain("Fix: Write the vault's token");

    expect((JSON.parse(by('/services').body) as { text: string }).text).toMatch(/^\*panel on test: Vault token accepted OK → FAILING\*\n.*\nFix: /);
    expect((JSON.parse(by('/api/webhooks').body) as { content: string }).content).toMatch(/^\*\*panel on test: Vault token accepted OK → FAILING\*\*/);
    for (const r of received) expect(r.body).not.toContain(HASH);
    expect(received.some((r) => r.path === '/off')).toBe(false);

    // Back to OK: one more message per channel, without a fix.
    status = 'ok';
    await monitor.sweep();
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(8);
    const back = JSON.parse(received.filter((r) => r.path.startsWith('/hook')).at(-1)!.body) as Record<string, unknown>;
    expect(back).toMatchObject({ from: 'fail', to: 'ok' });
    expect(back.fix).toBeUndefined();
  });

  it('a test message reports each delivery, a failing one with its status, never with the URL', async () => {
    received.length = 0;
    const notifications = { ...config(), channels: [...config().channels, { name: 'broken', kind: 'webhook' as const, url: `${base}/broken/very-secret`, enabled: true }] };
    const deliveries = await deliverAll(notifications, testMessage('panel on test'));
    expect(deliveries.map((d) => [d.channel, d.ok, d.status])).toEqual([
      ['hook', true, 200],
      ['phone', true, 200],
      ['team', true, 200],
      ['guild', true, 200],
      ['broken', false, 500],
    ]);
    expect(JSON.stringify(deliveries)).not.toContain('secret');
    expect(deliveries[0]!.where).toBe(channelWhere(`${base}/x`));
    expect(JSON.parse(received.find((r) => r.path.startsWith('/hook'))!.body)).toMatchObject({ event: 'test' });
    // Only the named one, even when disabled.
    expect((await deliverAll(notifications, testMessage('p'), 'off')).map((d) => d.channel)).toEqual(['off']);
    // Nothing listening: a clear reason, no URL.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dead = await deliverAll({ timeoutMs: 1_000, channels: [{ name: 'dead', kind: 'slack', url: `http://127.0.0.1:${port}/hooks/tok`, enabled: true }] }, testMessage('p'));
    expect(dead[0]).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });
});
