import { readFileSync } from 'node:fs';
import { expect, snap, test } from './panel.js';
import { openPanel, useStack } from './stack.js';

const stack = useStack('tokens', { up: true, adopt: true });

const status = async (url: string, token?: string) =>
  (await fetch(`${url}/system_stats`, { headers: token ? { Authorization: `Bearer ${token}` } : {} })).status;

test('Tokens page: Rotate, from the click to the double accepting the new token and refusing the old one', async ({ page }) => {
  const url = `http://127.0.0.1:${stack().port}`;
  expect(await status(url, stack().credential.hash)).toBe(200);
  const panel = await openPanel(page, stack(), '#/tokens');
  try {
    const before = await page.getByTestId('token-fingerprint').innerText();
    await expect(page.getByTestId('live-facts').getByRole('img', { name: "Accepts the vault's token: OK" })).toBeVisible();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByRole('button', { name: 'Yes, rotate now' }).click();
    await expect(page.getByTestId('rotation-outcome')).toContainText('committed', { timeout: 120_000 });
    await expect(page.getByTestId('rotation-steps')).toContainText('verify');
    await expect(page.getByTestId('token-fingerprint')).not.toHaveText(before);
    // The audit history records the rotation by fingerprint, never by value.
    await expect(page.getByTestId('token-history')).toContainText('committed');
    await expect(page.getByTestId('token-history')).toContainText(await page.getByTestId('token-fingerprint').innerText());
    await snap(page, 'tokens-rotated');

    // The secret file the container reads now holds the new hash: it works, the old one does not.
    const newHash = readFileSync(stack().secretFile, 'utf8').split('\n')[0]!;
    expect(newHash).not.toBe(stack().credential.hash);
    expect(await status(url, newHash)).toBe(200);
    expect(await status(url, stack().credential.hash)).toBe(401);
    expect(await status(url)).toBe(401);
    const pageText = readFileSync(`${process.cwd()}/e2e-output/tokens-rotated.txt`, 'utf8');
    expect(pageText).not.toContain(newHash);

    // The explicit hand-off: the lines go to the clipboard, quoted for the chosen reader, never onto the page.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: panel.origin });
    await page.getByRole('combobox', { name: 'Client dialect' }).selectOption('compose');
    await page.getByRole('button', { name: 'Copy client env lines' }).click();
    await expect(page.getByTestId('credential').getByRole('status')).toContainText('for compose readers');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain(`COMFYUI_BEARER_TOKEN='${newHash}'`);
    expect(copied).toContain(`COMFYUI_URL=${url}`);
    expect(await page.locator('body').innerText()).not.toContain(newHash);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
