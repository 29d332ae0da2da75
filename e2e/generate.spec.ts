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

    // A history row reopens the run: its image (this session has it) and how it was made.
    await page.getByTestId('generate-history').getByRole('button', { name: /^Open the run/ }).first().click();
    const details = page.getByTestId('run-details');
    await expect(details.getByTestId('run-image')).toBeVisible();
    await details.getByRole('button', { name: 'Close' }).click();
  } finally {
    panel.proc.kill('SIGTERM');
  }
});

test('Generate page: a workflow whose models are missing lists each file with its folder; the run reopens with its prompt and seed', async ({ page }) => {
  const panel = await openPanel(page, stack(), '#/generate');
  try {
    await page.getByRole('combobox', { name: 'Workflow' }).selectOption('qwen');
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a red fox in the snow');
    await page.getByRole('textbox', { name: 'Seed' }).fill('1234');
    await page.getByRole('button', { name: 'Generate' }).click();
    // The double lists no Qwen models: the preflight names each missing file and where it goes.
    const problems = page.getByTestId('generate-result').getByTestId('preflight-problems');
    await expect(problems).toBeVisible({ timeout: 60_000 });
    const items = problems.getByRole('listitem');
    expect(await items.count()).toBeGreaterThanOrEqual(2);
    await expect(problems).toContainText('goes in models/diffusion_models');
    await expect(problems).toContainText('.safetensors');
    await snap(page, 'generate-preflight');

    // The failed run is in the history with what it was asked; reopening and reusing fills the form.
    await page.getByRole('combobox', { name: 'Workflow' }).selectOption('smoke');
    const row = page.getByTestId('generate-history').getByRole('row').filter({ hasText: 'a red fox in the snow' });
    await expect(row).toContainText('1234');
    await row.getByRole('button', { name: /^Open the run/ }).click();
    const details = page.getByTestId('run-details');
    await expect(details.getByTestId('run-prompt')).toHaveText('a red fox in the snow');
    await expect(details.getByTestId('run-seed')).toHaveText('1234');
    await expect(details.getByTestId('preflight-problems')).toContainText('models/');
    await details.getByRole('button', { name: 'Use these settings' }).click();
    await expect(page.getByRole('combobox', { name: 'Workflow' })).toHaveValue('qwen');
    await expect(page.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue('a red fox in the snow');
    await expect(page.getByRole('textbox', { name: 'Seed' })).toHaveValue('1234');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
