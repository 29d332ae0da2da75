// Notifications beyond the desktop: a webhook channel in the config receives the test from the
// Notifications card and, after an external `docker stop`, the state change with the check, old and
// new state and the fix, never a secret; in browser mode the Notification API is asked once and then
// shows the change. The receiver is a real HTTP server in this process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, NOTIFICATION_STUB, snap, test } from './panel.js';
import { docker, openPanel, useStack } from './stack.js';

interface Hit {
  path: string;
  body: Record<string, unknown>;
  raw: string;
}
const hits: Hit[] = [];
let server: http.Server | undefined;

const stack = useStack('notify', {
  up: true,
  adopt: true,
  unify: true,
  prepare: async (s) => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', raw, body: JSON.parse(raw || '{}') as Record<string, unknown> });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const file = path.join(s.home, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    config.notifications = { channels: [{ name: 'ops', kind: 'webhook', url: `http://127.0.0.1:${port}/hooks/very-secret-path` }] };
    writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  },
});
test.afterAll(() => server?.close());
test.setTimeout(240_000);

test('a webhook receives the test and then the state change of an external stop; the browser is asked once and shows it', async ({ page }) => {
  await page.addInitScript(NOTIFICATION_STUB);
  const panel = await openPanel(page, stack(), '#/settings');
  try {
    const card = page.getByTestId('notifications');
    await expect(card.getByTestId('notify-channels')).toContainText('127.0.0.1');
    // The channel's path (its secret, for Slack or Discord) is never on the page.
    await expect(card).not.toContainText('very-secret-path');

    await card.getByRole('button', { name: 'Send test to ops' }).click();
    await expect(card.getByTestId('notify-deliveries')).toContainText('ops (webhook, http://127.0.0.1:');
    await expect(card.getByTestId('notify-deliveries')).toContainText('delivered, HTTP 200');
    expect(hits.map((h) => h.body.event)).toEqual(['test']);
    expect(hits[0]!.path).toBe('/hooks/very-secret-path');

    // Browser notifications: asked once, on the operator's click; after a reload nothing asks again.
    await card.getByRole('button', { name: 'Enable browser notifications' }).click();
    await expect(card.getByTestId('browser-notifications')).toContainText('Browser notifications are on');
    await page.reload();
    await expect(page.getByTestId('browser-notifications')).toContainText('Browser notifications are on');
    expect(await page.evaluate(() => (window as unknown as { asks: number }).asks)).toBe(1);
    await snap(page, 'notifications-card');
    await page.goto(`${panel.origin}/#/dashboard`);

    // The sweep at start is done (this joins it), every tile is current; then a stop from outside.
    expect((await page.request.post(`${panel.origin}/api/op/healthRun`, { data: {} })).ok()).toBe(true);
    await expect(page.getByTestId('check-container')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
    const before = hits.length;
    await docker().getContainer(stack().containerName).stop({ t: 2 });
    await expect.poll(() => hits.slice(before).find((h) => (h.body.check as { id?: string } | undefined)?.id === 'container'), { timeout: 30_000 }).toBeTruthy();
    const change = hits.slice(before).find((h) => (h.body.check as { id: string }).id === 'container')!;
    expect(change.body).toMatchObject({ event: 'health.changed', check: { id: 'container', title: 'Container running' }, from: 'ok', to: 'fail' });
    expect(String(change.body.fix)).toContain('Start the container');
    // Only changes are sent: per check, each message starts from the state the previous one ended in, and never repeats it.
    const last = new Map<string, unknown>();
    for (const h of hits.slice(before)) {
      const id = (h.body.check as { id: string }).id;
      expect(h.body.from, `${id}: ${JSON.stringify(hits.slice(before).map((x) => [x.body.check, x.body.from, x.body.to]))}`).not.toBe(h.body.to);
      if (last.has(id)) expect(h.body.from).toBe(last.get(id));
      last.set(id, h.body.to);
    }
    // Never a secret: not the token, not the password, in any delivery.
    for (const h of hits) {
      expect(h.raw).not.toContain(stack().credential.hash);
      expect(h.raw).not.toContain(stack().credential.password);
    }
    // The open tab showed it too.
    await expect.poll(() => page.evaluate(() => (window as unknown as { shown: { title: string }[] }).shown.map((n) => n.title)), { timeout: 15_000 }).toContain('Container running: OK → Failing');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
