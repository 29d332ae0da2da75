import { expect, snap, startPanel, test } from './panel.js';
import { newStack, type Stack } from './stack.js';

let stack: Stack;
test.beforeAll(async () => {
  stack = await newStack('dashboard');
  expect(stack.cli(['container', 'up']).status).toBe(0);
  expect(stack.cli(['token', 'import', '--from-container']).status).toBe(0);
});
test.afterAll(async () => stack?.removeContainer());

const GREEN = ['docker', 'container', 'docker-health', 'login-node', 'auth-rejects-anonymous', 'auth-accepts-token'];

test('Dashboard: all green, the right red light when the container stops, green again when it starts', async ({ page }) => {
  const panel = await startPanel('dashboard', { home: stack.home });
  try {
    await page.goto(panel.url);
    const runAll = page.getByRole('button', { name: 'Run all checks now' });
    await runAll.click();
    for (const id of GREEN) await expect(page.getByTestId(`check-${id}`), id).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
    await snap(page, 'dashboard-green');

    expect(stack.cli(['container', 'down']).status).toBe(0);
    await runAll.click();
    const container = page.getByTestId('check-container');
    await expect(container).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
    await expect(container).toContainText('Fix:');
    await expect(page.getByTestId('check-docker')).toHaveAttribute('data-status', 'ok');
    await expect(page.getByTestId('health-headline')).toContainText('failing');
    await snap(page, 'dashboard-red');

    // The one-click fix starts the container again.
    await container.getByRole('button', { name: 'Fix it' }).click();
    await expect(page.getByTestId('check-container')).toHaveAttribute('data-status', 'ok', { timeout: 90_000 });
    await runAll.click();
    for (const id of GREEN) await expect(page.getByTestId(`check-${id}`), id).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    await snap(page, 'dashboard-green-again');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
