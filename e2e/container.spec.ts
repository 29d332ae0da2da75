import { readFileSync } from 'node:fs';
import { expect, snap, test } from './panel.js';
import { openPanel, useStack } from './stack.js';

const stack = useStack('container');

test('Container page: starts the double container, shows it healthy and protected, streams redacted logs', async ({ page }) => {
  const panel = await openPanel(page, stack(), '#/container');
  try {
    const state = page.getByTestId('container-state');
    await expect(page.getByTestId('container-phase')).toContainText('absent');
    await state.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByTestId('container-phase')).toContainText('healthy', { timeout: 90_000 });
    const facts = page.getByTestId('login-node');
    for (const fact of ['Installed', 'Loaded', 'Enforced']) await expect(facts.getByRole('img', { name: `${fact}: OK` })).toBeVisible();
    await expect(page.getByTestId('gpu')).toContainText(/no GPU/i);
    // The ComfyUI-Login startup line carries the token: it arrives redacted.
    const log = page.getByRole('log', { name: 'Container log' });
    await expect(log).toContainText('To see the GUI go to', { timeout: 30_000 });
    await page.getByRole('searchbox', { name: 'Search logs' }).fill('use token=');
    await expect(log).toContainText('[redacted fp:');
    await snap(page, 'container-page');

    // "Copy diagnostics" carries the state and the visible log, with the token still redacted.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: panel.origin });
    await page.getByRole('button', { name: 'Copy diagnostics' }).click();
    await expect(page.getByText('Copied, with secrets redacted.')).toBeVisible();
    const report = await page.evaluate(() => navigator.clipboard.readText());
    expect(report).toContain('# ComfyUI Control Panel diagnostics');
    expect(report).toContain('use token=[redacted fp:');
    expect(report).not.toContain(stack().credential.hash);
    expect(readFileSync(`${process.cwd()}/e2e-output/container-page.txt`, 'utf8')).not.toContain(stack().credential.hash);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
