import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import { expect, snap, test } from './panel.js';
import { openPanel, useStack } from './stack.js';

const stack = useStack('env', {
  prepare(s) {
    // The messy original: compose .env with the hash unquoted (compose mangles it), a stale notebook token.
    writeFileSync(path.join(s.project, '.env'), `# compose project\nCOMFYUI_URL=http://old-host:8188\nCOMFYUI_BEARER_TOKEN=${s.credential.hash}\n`);
    writeFileSync(path.join(s.project, 'notebooks', '.env'), `COMFYUI_API_TOKEN=stale-token-value-123\nOTHER=1\n`);
    writeFileSync(path.join(s.project, 'token.env'), `COMFYUI_BEARER_TOKEN='${s.credential.hash}'\n`);
    expect(s.cli(['token', 'import', '--from-env', 'token.env:COMFYUI_BEARER_TOKEN', '--dialect', 'dotenv']).status).toBe(0);
  },
});

test('Env page: findings, a masked diff, then a sync that each reader reads back exactly', async ({ page }) => {
  const panel = await openPanel(page, stack(), '#/env');
  try {
    // Files, findings, compare and sync are tabs: each a click away, none thousands of pixels down.
    const files = page.getByTestId('env-files');
    await expect(files).toContainText('notebooks/.env');
    // A file with an error finding (compose-unsafe) is Failing, not a Warning.
    await expect(page.getByTestId('file-light-.env').getByRole('img')).toHaveAccessibleName('.env: errors: Failing');
    await page.getByRole('tab', { name: /Findings/ }).click();
    const findings = page.getByTestId('env-findings');
    await expect(findings).toContainText('compose-unsafe');
    await page.getByRole('tab', { name: 'Compare' }).click();
    await page.getByRole('combobox', { name: 'File A' }).selectOption('.env');
    await page.getByRole('combobox', { name: 'File B' }).selectOption('notebooks/.env');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const diff = page.getByTestId('env-diff');
    await expect(diff).toContainText('only in B');
    await expect(diff).not.toContainText(stack().credential.hash);
    await snap(page, 'env-diff');

    await page.getByRole('tab', { name: 'Sync' }).click();
    const sync = page.getByTestId('env-sync');
    await sync.getByRole('button', { name: 'Preview sync' }).click();
    await expect(sync).toContainText('will change: sets');
    await sync.getByRole('button', { name: 'Apply' }).click();
    // Rewriting files asks first, naming each one.
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText('notebooks/.env');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('env-sync-outcome')).toContainText('each re-read by its own reader');
    await snap(page, 'env-synced');

    const compose = readFileSync(path.join(stack().project, '.env'), 'utf8');
    expect(compose).toContain(`COMFYUI_BEARER_TOKEN='${stack().credential.hash}'`);
    expect(compose.startsWith('# compose project\n')).toBe(true);
    const notebook = path.join(stack().project, 'notebooks', '.env');
    expect(parse(readFileSync(notebook)).COMFYUI_API_TOKEN).toBe(stack().credential.hash);
    expect(statSync(notebook).mode & 0o777).toBe(0o600);

    // Only the mode off: the plan says so, instead of "will change" over an empty diff.
    chmodSync(notebook, 0o644);
    await sync.getByRole('button', { name: 'Preview again' }).click();
    await expect(sync).toContainText('notebooks/.env (dotenv) — only the mode changes, the contents are already right');
    await expect(sync).toContainText('mode 0644 -> 0600 (it holds a secret: only its owner may read it)');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});

