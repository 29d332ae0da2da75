import AxeBuilder from '@axe-core/playwright';
import { expect, snap, test } from './panel.js';
import { openPanel, useStack } from './stack.js';

const stack = useStack('a11y', { up: true, adopt: true });
// Five pages, each scanned by axe-core: minutes on a loaded machine.
test.setTimeout(300_000);

// Every page, in both themes, checked by axe-core for WCAG 2 A/AA problems (labels, contrast, roles).
for (const theme of ['light', 'dark'] as const) {
  test(`every page passes axe-core's WCAG A/AA rules in the ${theme} theme`, async ({ page }) => {
    const panel = await openPanel(page, stack());
    try {
      await page.getByRole('combobox', { name: 'Theme' }).selectOption(theme);
      for (const id of ['dashboard', 'container', 'tokens', 'env', 'generate']) {
        await page.goto(`${panel.origin}/#/${id}`);
        await expect(page.getByRole('main')).not.toContainText('Loading', { timeout: 20_000 });
        const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
        const problems = results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
        expect(problems, `${id} page, ${theme} theme`).toEqual([]);
      }
      await snap(page, `a11y-generate-${theme}`);

      // The dialogs too: a check's history and a confirmation.
      const axe = async (what: string) => {
        const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
        expect(results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), `${what}, ${theme} theme`).toEqual([]);
      };
      await page.goto(`${panel.origin}/#/dashboard`);
      await page.getByRole('button', { name: 'History of Docker engine' }).click();
      await expect(page.getByRole('dialog')).toBeVisible();
      await axe('the history dialog');
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog')).toHaveCount(0);
      await page.goto(`${panel.origin}/#/container`);
      await page.getByTestId('container-state').getByRole('button', { name: 'Restart' }).click();
      await expect(page.getByRole('dialog')).toContainText('Restart ComfyUI?');
      await axe('the confirmation dialog');
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    } finally {
      panel.proc.kill('SIGTERM');
    }
  });
}

test('the whole dashboard can be used from the keyboard', async ({ page }) => {
  const panel = await openPanel(page, stack());
  try {
    // Tab reaches the navigation and the main action; Enter activates it.
    const reached = new Set<string>();
    // Past the navigation (seven pages), the theme and sign-out, to the dashboard's main action.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    expect([...reached]).toEqual(expect.arrayContaining(['Dashboard', 'Container', 'Tokens', 'Run all checks now']));
    await page.getByRole('button', { name: 'Run all checks now' }).focus();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('check-docker')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
