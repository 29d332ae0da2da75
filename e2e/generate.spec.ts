import { expect, snap, test } from './panel.js';
import { openPanel, useStack } from './stack.js';

const stack = useStack('generate', { up: true, adopt: true });

test('Generate page: runs the smoke workflow through the authenticated API and shows the image and timings', async ({ page }) => {
  const panel = await openPanel(page, stack(), '#/generate');
  try {
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
