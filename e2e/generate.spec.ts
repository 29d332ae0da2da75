import { expect, snap, startPanel, test } from './panel.js';
import { newStack, type Stack } from './stack.js';

let stack: Stack;
test.beforeAll(async () => {
  stack = await newStack('generate');
  expect(stack.cli(['container', 'up']).status).toBe(0);
  expect(stack.cli(['token', 'import', '--from-container']).status).toBe(0);
});
test.afterAll(async () => stack?.removeContainer());

test('Generate page: runs the smoke workflow through the authenticated API and shows the image and timings', async ({ page }) => {
  const panel = await startPanel('generate', { home: stack.home });
  try {
    await page.goto(panel.url);
    await page.goto(`${panel.origin}/#/generate`);
    await page.getByRole('button', { name: 'Generate' }).click();
    const image = page.getByTestId('result-image');
    await expect(image).toBeVisible({ timeout: 60_000 });
    // A real 64x64 PNG decoded by Chromium.
    expect(await image.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([64, 64]);
    await expect(page.getByTestId('timings')).toContainText('Total');
    await expect(page.getByTestId('generate-progress')).toContainText('100%');
    await expect(page.getByTestId('generate-history')).toContainText('smoke');
    await snap(page, 'generate-smoke');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
