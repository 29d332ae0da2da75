import type { Page } from '@playwright/test';
import { expect, snap, test } from './panel.js';
import { openPanel, useStack } from './stack.js';

const stack = useStack('dashboard', { up: true, adopt: true, unify: true });

const GREEN = ['docker', 'container', 'docker-health', 'login-node', 'auth-rejects-anonymous', 'auth-accepts-token', 'token-consistency', 'env-consistency'];

/** Runs all checks (as the operator would, again and again) until every listed check is green. */
async function untilGreen(page: Page) {
  await expect(async () => {
    await page.getByRole('button', { name: 'Run all checks now' }).click();
    await expect(page.getByRole('button', { name: 'Run all checks now' })).toBeEnabled({ timeout: 20_000 });
    for (const id of GREEN) await expect(page.getByTestId(`check-${id}`), id).toHaveAttribute('data-status', 'ok', { timeout: 1_000 });
  }).toPass({ timeout: 90_000, intervals: [1_000, 2_000] });
}

test.setTimeout(240_000);

test('Dashboard: all green, the right red light when the container stops, green again when it starts', async ({ page }) => {
  const panel = await openPanel(page, stack());
  try {
    const runAll = page.getByRole('button', { name: 'Run all checks now' });
    await untilGreen(page);
    await snap(page, 'dashboard-green');

    expect(stack().cli(['container', 'down']).status).toBe(0);
    await runAll.click();
    const container = page.getByTestId('check-container');
    await expect(container).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
    await expect(container).toContainText('Fix:');
    // Only the container is at fault: the engine and the credential's copies stay green.
    for (const id of ['docker', 'token-consistency', 'env-consistency']) await expect(page.getByTestId(`check-${id}`), id).toHaveAttribute('data-status', 'ok');
    await expect(page.getByTestId('health-headline')).toContainText('failing');
    await snap(page, 'dashboard-red');

    // The one-click fix starts the container again.
    await container.getByRole('button', { name: 'Fix it' }).click();
    await untilGreen(page);

    // The generation check's fix runs the smoke test; its image lands on the dashboard.
    await page.getByTestId('check-generation').getByRole('button', { name: 'Fix it' }).click();
    await expect(page.getByTestId('check-generation')).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    await expect(page.getByTestId('last-image')).toBeVisible();
    await expect(page.getByTestId('container-state')).toBeVisible();
    await snap(page, 'dashboard-green-again');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
