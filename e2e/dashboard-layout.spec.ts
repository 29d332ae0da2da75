// The dashboard with a full history (50 sweeps, an outage in the middle): the headline names the
// Unknown checks during the outage; at 900 and 1920 px, in both themes, nothing is wider than its
// tile and the header does not overflow; the History view lists the outage. The README's
// screenshots (docs/) are taken here.
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, snap, test } from './panel.js';
import { docker, openPanel, useStack } from './stack.js';
import { checkTitles } from '../app/contract/names.js';

const stack = useStack('layout', { up: true, adopt: true, unify: true });
const SWEEPS = 50;

test.setTimeout(600_000);

async function sweep(page: Page, origin: string) {
  const res = await page.request.post(`${origin}/api/op/healthRun`, { data: {} });
  expect(res.ok()).toBe(true);
}

async function untilHealthy() {
  await expect.poll(async () => (await docker().getContainer(stack().containerName).inspect()).State.Health?.Status, { timeout: 90_000 }).toBe('healthy');
}

/** Everything in a check tile that sticks out of it, and whatever makes the page or the header scroll sideways. */
async function overflow(page: Page) {
  return page.evaluate(() => {
    const out: string[] = [];
    const tiles = [...document.querySelectorAll<HTMLElement>('.checks .check')];
    for (const tile of tiles) {
      const t = tile.getBoundingClientRect();
      for (const el of tile.querySelectorAll<HTMLElement>('*')) {
        if (el.closest('dialog')) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < t.left - 0.5 || r.right > t.right + 0.5 || r.width > t.width) out.push(`${tile.dataset.testid}: ${el.tagName.toLowerCase()}.${el.className} spans ${Math.round(r.left)}..${Math.round(r.right)} in a tile of ${Math.round(t.left)}..${Math.round(t.right)}`);
        if (r.bottom > t.bottom + 0.5) out.push(`${tile.dataset.testid}: ${el.tagName.toLowerCase()}.${el.className} below the tile`);
      }
      if (tile.scrollWidth > tile.clientWidth) out.push(`${tile.dataset.testid}: content ${tile.scrollWidth} px wide in ${tile.clientWidth} px`);
    }
    const heights = new Set(tiles.map((t) => Math.round(t.getBoundingClientRect().height)));
    if (heights.size !== 1) out.push(`tiles of different heights: ${[...heights].join(', ')}`);
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page ${document.documentElement.scrollWidth} px wide at ${window.innerWidth}`);
    const bar = document.querySelector<HTMLElement>('.topbar')!;
    for (const el of bar.querySelectorAll<HTMLElement>('*')) {
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > window.innerWidth + 0.5 || r.left < -0.5)) out.push(`header: ${el.tagName.toLowerCase()} at ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    return { problems: out, tiles: tiles.length, beats: tiles.map((t) => t.querySelectorAll('.beat:not(.beat-empty)').length) };
  });
}

test('50 sweeps with an outage: the headline names the Unknowns, tiles fit at 900 and 1920 px in both themes, the history shows the outage', async ({ page }) => {
  const panel = await openPanel(page, stack());
  try {
    // A smoke run first, so the generation check has something to report.
    expect((await page.request.post(`${panel.origin}/api/op/generateRun`, { data: { workflow: 'smoke' } })).ok()).toBe(true);
    for (let i = 0; i < SWEEPS; i++) {
      if (i === 30) await docker().getContainer(stack().containerName).stop({ t: 2 });
      if (i === 36) {
        await docker().getContainer(stack().containerName).start();
        await untilHealthy();
      }
      await sweep(page, panel.origin);
      if (i === 31) {
        // During the outage: the live headline counts and names every Unknown check.
        await expect(page.getByTestId('check-container')).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
        const unknown = page.locator('.checks .check[data-status=unknown] h3');
        const titles = await unknown.allInnerTexts();
        expect(titles.length).toBeGreaterThan(0);
        const headline = page.getByTestId('health-headline');
        await expect(headline).toContainText(`${titles.length} unknown`);
        for (const t of titles) await expect(headline).toContainText(t);
        await expect(headline).not.toContainText('All critical checks OK');
        await snap(page, 'layout-outage');
      }
    }

    for (const width of [900, 1920]) {
      for (const theme of ['light', 'dark'] as const) {
        await page.setViewportSize({ width, height: 1000 });
        await page.getByRole('combobox', { name: 'Theme' }).selectOption(theme);
        await page.reload();
        await expect(page.getByTestId('check-generation')).toBeVisible({ timeout: 30_000 });
        const m = await overflow(page);
        expect(m.problems, `${width} px, ${theme}`).toEqual([]);
        expect(m.tiles).toBe(Object.keys(checkTitles).length);
        // Every strip holds the whole history, and still fits.
        expect(m.beats.every((n) => n === SWEEPS)).toBe(true);
        await snap(page, `layout-${width}-${theme}`);
      }
    }

    // The README's screenshots, at a common desktop width.
    for (const theme of ['light', 'dark'] as const) {
      await page.setViewportSize({ width: 1440, height: 1000 });
      await page.getByRole('combobox', { name: 'Theme' }).selectOption(theme);
      await page.reload();
      await expect(page.getByTestId('check-generation')).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
      await expect(page.getByTestId('last-image')).toBeVisible();
      await page.screenshot({ path: path.resolve('docs', theme === 'light' ? 'screenshot-dashboard.png' : 'screenshot-dashboard-dark.png'), fullPage: true });
    }

    // The container check's history: the outage, how long, and what ended it.
    await page.getByTestId('check-container').getByRole('button', { name: 'History of Container running' }).click();
    const history = page.getByTestId('check-history');
    const row = history.getByTestId('incidents').getByRole('row').nth(1);
    await expect(row).toContainText('failing result(s)');
    await expect(row).toContainText('OK:');
    await page.screenshot({ path: path.resolve('docs', 'screenshot-check-history.png') });
    await history.getByRole('button', { name: 'Close' }).click();
    await expect(history).toHaveCount(0);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
