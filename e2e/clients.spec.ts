import { chownSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { ensureGatewayImage, GATEWAY_UID } from '../test/support/gateway-image.js';
import { expect, snap, test } from './panel.js';
import { docker, freePort, openPanel, useStack, type Stack } from './stack.js';

const KEY = /cpk_[A-Za-z0-9_-]{43}/;
let gatewayName = '';
let networkName = '';

/** The stack behind the gateway: the gateway image, its own container and network, ComfyUI on that network unpublished. */
async function withGateway(s: Stack): Promise<void> {
  const image = await ensureGatewayImage(docker());
  gatewayName = `${s.containerName}-gw`;
  networkName = `${s.containerName}-net`;
  // The gateway runs as the secret's owner and must read it: the recipe's user, as in a real deployment.
  chownSync(s.secretFile, GATEWAY_UID, GATEWAY_UID);
  s.config.gateway = {
    enabled: true,
    name: gatewayName,
    image,
    network: networkName,
    hostPort: await freePort(),
    restartPolicy: 'no',
    stopTimeoutSec: 2,
    healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 },
  };
  writeFileSync(path.join(s.home, 'config.json'), JSON.stringify(s.config, null, 2), { mode: 0o600 });
}

const stack = useStack('clients', { up: true, prepare: withGateway });

test.afterAll(async () => {
  await docker()
    .getContainer(gatewayName)
    .remove({ force: true })
    .catch(() => undefined);
  await stack().removeContainer();
  await docker()
    .getNetwork(networkName)
    .remove()
    .catch(() => undefined);
});

/** Requests the gateway let through, per key: what its usage must show. */
const accepted = new Map<string, number>();
async function call(url: string, key: string, init: RequestInit = {}): Promise<number> {
  const { status } = await fetch(url, { ...init, headers: { Authorization: `Bearer ${key}`, ...init.headers }, signal: AbortSignal.timeout(5_000) });
  if (status === 200) accepted.set(key, (accepted.get(key) ?? 0) + 1);
  return status;
}
const stats = (gateway: string, key: string) => call(`${gateway}/system_stats`, key);
const prompt = (gateway: string, key: string) => call(`${gateway}/prompt`, key, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"prompt":{}}' });

/** Clicks a copy button of the hand-over and returns what reached the clipboard. */
async function copied(page: Page, button: string): Promise<string> {
  await page.getByTestId('handover').getByRole('button', { name: button }).click();
  await expect(page.getByTestId('handover').getByRole('status')).toContainText('Copied');
  return page.evaluate(() => navigator.clipboard.readText());
}

test('Clients page: start the gateway, create a read key, use it, rotate with an overlap, revoke it, see its usage', async ({ page }) => {
  test.setTimeout(240_000);
  const panel = await openPanel(page, stack(), '#/clients');
  try {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: panel.origin });
    const card = page.getByTestId('gateway');
    await card.getByRole('button', { name: 'Start gateway' }).click();
    await expect(card.getByRole('img', { name: /healthy/ })).toBeVisible({ timeout: 120_000 });
    const gateway = await card.getByTestId('gateway-url').innerText();
    expect(gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Create: name, scope, expiry. The key is handed over once, to the clipboard, never onto the page.
    const form = page.getByTestId('client-create');
    await form.getByLabel('Name').fill('notebook-e2e');
    await form.getByLabel('Scope').selectOption('read');
    await form.getByLabel('Expires after').fill('7d');
    // A rate limit in another notation is refused by name, not dropped from the key.
    await form.getByLabel('Rate limit').fill('60/1m');
    await form.getByRole('button', { name: 'Create key' }).click();
    await expect(form.getByRole('alert')).toContainText('Rate limit "60/1m"');
    await expect(page.getByTestId('handover')).toBeHidden();
    await form.getByLabel('Rate limit').fill('');
    await form.getByRole('button', { name: 'Create key' }).click();
    const handover = page.getByTestId('handover');
    await expect(handover).toContainText('notebook-e2e (read');
    await expect(handover).toContainText('only time the key is available');
    const expires = /expires (\S+)\./.exec(await handover.innerText())?.[1];
    expect(Date.parse(expires ?? '') - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const key = await copied(page, 'Copy key');
    expect(new RegExp(`^${KEY.source}$`).test(key)).toBe(true);
    expect(KEY.test(await page.locator('body').innerText())).toBe(false);

    // Env lines per dialect, each quoted for its reader, with the gateway's URL (not ComfyUI's).
    const dialect = handover.getByRole('combobox', { name: 'Env file dialect' });
    for (const d of ['compose', 'dotenv', 'raw'] as const) {
      await dialect.selectOption(d);
      const lines = await copied(page, 'Copy env lines');
      // A key is base64url: bare is exact for every reader. Compared with the key masked, so a failure never prints it.
      expect(lines.replaceAll(key, '<key>')).toBe(`COMFYUI_URL=${gateway}\nCOMFYUI_BEARER_TOKEN=<key>\n`);
    }
    await handover.getByRole('button', { name: 'Done' }).click();
    await expect(handover).toBeHidden();
    const row = page.getByTestId('client-notebook-e2e');
    await expect(row).toContainText('active');
    await expect(row).toContainText(`…${key.slice(-4)}`);

    // The read key at the gateway: status yes, prompts no; no key at all: 401.
    await expect.poll(() => stats(gateway, key), { timeout: 10_000 }).toBe(200);
    expect(await prompt(gateway, key)).toBe(403);
    expect((await fetch(`${gateway}/system_stats`)).status).toBe(401);

    // Rotate with an hour of overlap: the successor is handed over, both keys work meanwhile.
    await row.getByRole('combobox', { name: 'Overlap for notebook-e2e' }).selectOption('1h');
    await row.getByRole('button', { name: 'Rotate' }).click();
    await expect(handover).toContainText('notebook-e2e (read');
    const successor = await copied(page, 'Copy key');
    expect(KEY.test(successor) && successor !== key).toBe(true);
    await handover.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => stats(gateway, successor), { timeout: 10_000 }).toBe(200);
    expect(await stats(gateway, key)).toBe(200);
    const rows = page.getByTestId('client-table').locator('tr', { hasText: 'notebook-e2e' });
    await expect(rows).toHaveCount(2);
    await expect(page.getByTestId('client-table')).toContainText('overlap');

    // Each row revokes its own key, refused within a second, no restart. The old one first (the
    // overlap ends early: every client moved), then the successor.
    const revoke = async (which: string) => {
      await rows.filter({ hasText: `…${which.slice(-4)}` }).getByRole('button', { name: 'Revoke' }).click();
      const at = Date.now();
      await expect.poll(() => stats(gateway, which), { intervals: [50], timeout: 1_000 }).toBe(401);
      expect(Date.now() - at).toBeLessThan(1_000);
    };
    await revoke(key);
    expect(await stats(gateway, successor)).toBe(200);
    await revoke(successor);
    await expect(rows.filter({ hasText: 'revoked' })).toHaveCount(2);

    // Usage: on each key's row, exactly the requests the gateway let through with it (refused ones
    // are not its use), once the gateway has flushed its log, with when and from where.
    for (const k of [key, successor]) {
      const row = rows.filter({ hasText: `…${k.slice(-4)}` });
      await expect
        .poll(
          async () => {
            await page.getByTestId('client-keys').getByRole('button', { name: 'Refresh' }).click();
            return row.innerText();
          },
          { timeout: 15_000 },
        )
        .toMatch(new RegExp(`\\s${accepted.get(k)} / 0 / 0\\.0 s\\s+just now from \\d`));
    }
    await snap(page, 'clients-usage');
    expect(KEY.test(await page.locator('body').innerText())).toBe(false);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
