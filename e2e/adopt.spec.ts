import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import type { Page } from '@playwright/test';
import { readEnvValues } from '../app/env/index.js';
import { composeDeployment, type ComposeDeployment } from '../test/support/compose-deployment.js';
import { expect, HOMES, startPanel, test, type PanelServer } from './panel.js';
import { docker, freePort } from './stack.js';

// The helper's prefix and a per-run part: containers, projects and homes of this spec.
const run = `adopt-${Math.random().toString(36).slice(2, 8)}`;
process.env.COMFY_PANEL_TEST_BCRYPT_COST ??= '4';
let dep: ComposeDeployment;
const cleanup: (() => Promise<unknown>)[] = [];

function cli(home: string, args: string[]) {
  const r = spawnSync(process.execPath, ['bin/comfy-panel.mjs', '--json', ...args], { env: { ...process.env, COMFY_PANEL_HOME: home }, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown>, stderr: r.stderr };
}

/** Reload the page and check the wizard came back at the same step. */
async function reloadAt(page: Page, step: string) {
  await page.reload();
  await expect(page.getByRole('list', { name: 'Setup steps' }).getByRole('listitem').filter({ hasText: step })).toHaveAttribute('aria-current', 'step');
}

test.beforeAll(async () => {
  dep = await composeDeployment(docker(), { prefix: `${run}-a`, hostPort: await freePort() });
  cleanup.push(() => dep.remove());
  // Up as compose leaves it: the entrypoint has installed login/PASSWORD and ComfyUI answers.
  await expect.poll(async () => (await fetch(`${dep.url}/system_stats`, { headers: { authorization: `Bearer ${dep.credential.hash}` } }).catch(() => undefined))?.status, { timeout: 60_000 }).toBe(200);
});
test.afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

test('the wizard adopts a compose deployment, resuming after a reload at every step; a rotation then commits everywhere', async ({ page }) => {
  test.setTimeout(240_000);
  const home = path.join(HOMES, `${run}-wizard`);
  const panel: PanelServer = await startPanel(`${run}-wizard`, { home });
  try {
    await page.goto(panel.url);
    await expect(page.getByRole('heading', { name: 'Set up the panel' })).toBeVisible();

    // Step 1: a wrong address is probed and reported there; Continue waits for an engine that answers.
    const address = page.getByLabel('Engine address');
    const good = await address.inputValue();
    await address.fill('tcp://127.0.0.1:1');
    await expect(page.getByRole('button', { name: 'Continue' })).toBeDisabled();
    await page.getByRole('button', { name: 'Check this address' }).click();
    await expect(page.getByTestId('engine-answer')).toContainText('Nothing usable answered at tcp://127.0.0.1:1');
    await reloadAt(page, 'Docker engine');
    await expect(page.getByLabel('Engine address')).toHaveValue('tcp://127.0.0.1:1');
    await page.getByLabel('Engine address').fill(good);
    await page.getByRole('button', { name: 'Check this address' }).click();
    await expect(page.getByTestId('engine-answer')).toContainText('answered at');
    await page.getByRole('button', { name: 'Continue' }).click();

    // Step 2: the compose container, by name, shown with its project.
    await reloadAt(page, 'Container');
    const radio = page.getByRole('radio', { name: new RegExp(dep.name) });
    await radio.check();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Step 3: "adopt these values", the diff, then write once.
    await reloadAt(page, 'Review and finish');
    const review = page.getByTestId('setup-review');
    await expect(page.getByTestId('setup-adopted')).toContainText(dep.secretFile);
    await expect(page.getByTestId('setup-adopted')).toContainText('client.env as raw');
    await expect(page.getByTestId('setup-diff')).toContainText('container.image');
    expect(() => readFileSync(path.join(home, 'config.json'))).toThrow();
    await review.getByRole('button', { name: 'Adopt these values' }).click();
    await expect(page.getByTestId('setup-outcome')).toContainText('Imported fp:');
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expect(page.getByRole('heading', { name: 'Set up the panel' })).toHaveCount(0);

    const saved = JSON.parse(readFileSync(path.join(home, 'config.json'), 'utf8')) as { container: Record<string, unknown>; env: { root: string; targets: { path: string; dialect: string }[] } };
    expect(saved.container).toMatchObject({ name: dep.name, image: dep.image, secretFile: dep.secretFile, user: '1000:1000' });
    expect(saved.env.root).toBe(dep.projectDir);
    expect(saved.env.targets.map((t) => `${t.path}:${t.dialect}`).sort()).toEqual(['.env:compose', 'client.env:raw', 'notebooks/.env:dotenv']);

    const rotated = cli(home, ['token', 'rotate']);
    expect(rotated.json, rotated.stderr).toMatchObject({ ok: true, outcome: 'committed' });
    const hash = readFileSync(dep.secretFile, 'utf8').split('\n')[0] ?? '';
    const read = (f: string) => readFileSync(path.join(dep.projectDir, f), 'utf8');
    expect(readEnvValues(read('.env'), 'compose', { lookup: () => undefined }).COMFYUI_TOKEN).toBe(hash);
    expect(read('client.env')).toContain(`COMFYUI_BEARER_TOKEN=${hash}\n`);
    expect(dotenv.parse(read('notebooks/.env')).COMFY_TOKEN).toBe(hash);
    const audit = cli(home, ['token', 'audit']);
    expect(audit.json.consistent).toBe(true);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});

test('Settings: a change saved in the UI and one made by hand both show in the running app', async ({ page }) => {
  const home = path.join(HOMES, `${run}-settings`);
  const panel = await startPanel(`${run}-settings`, { home, config: { health: { intervalSec: 3600 } } });
  try {
    await page.goto(panel.url);
    await page.goto(`${panel.origin}/#/settings`);
    const form = page.getByTestId('settings-form');
    const timeout = form.getByLabel('comfyui.timeoutMs');
    await expect(timeout).toHaveValue('10000');
    await expect(form).toContainText('Base URL of the ComfyUI server');
    // A bad value is refused with the schema's message, nothing saved.
    await timeout.fill('5');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await expect(page.getByTestId('settings-review')).toContainText('comfyui.timeoutMs');
    await expect(page.getByTestId('settings-review')).toContainText('not valid');
    await timeout.fill('12000');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await expect(page.getByTestId('settings-review')).toContainText('10000');
    await page.getByTestId('settings-review').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    const file = path.join(home, 'config.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).comfyui.timeoutMs).toBe(12000);

    // By hand: the running app reloads it and says so, and the form shows the new value.
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...cfg, comfyui: { ...cfg.comfyui, timeoutMs: 7000 } }, null, 2));
    await expect(page.getByTestId('config-reloaded')).toContainText('Config reloaded', { timeout: 5_000 });
    await expect(page.getByTestId('config-reloaded')).toContainText('comfyui.timeoutMs');
    await expect(form.getByLabel('comfyui.timeoutMs')).toHaveValue('7000', { timeout: 5_000 });
    // An invalid file is reported and the previous config stays.
    writeFileSync(file, '{ "comfyui": ');
    await expect(page.getByTestId('config-reloaded')).toContainText('not valid', { timeout: 5_000 });
    await expect(form.getByLabel('comfyui.timeoutMs')).toHaveValue('7000');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});

test('the create path with a local image reaches a healthy container', async ({ page }) => {
  test.setTimeout(240_000);
  const home = path.join(HOMES, `${run}-create`);
  const panel = await startPanel(`${run}-create`, { home });
  const name = `${run}-created`;
  cleanup.push(() => docker().getContainer(name).remove({ force: true }));
  const port = await freePort();
  try {
    await page.goto(panel.url);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('radio', { name: 'Create a new container' }).check();
    await page.getByLabel('New container name').fill(name);
    await page.getByLabel('Image').fill(dep.image);
    await page.getByLabel('GPUs').fill('none');
    await page.getByLabel('Secret file').fill(path.join(home, 'secrets', 'comfyui-password'));
    await page.getByLabel('Host port').fill(String(port));
    await page.getByRole('button', { name: 'Continue' }).click();
    const review = page.getByTestId('setup-review');
    // No token of another container or project is offered on the create path.
    await expect(review).not.toContainText('container:');
    await reloadAt(page, 'Review and finish');
    await page.getByTestId('setup-review').getByRole('button', { name: 'Create the container' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, create now' }).click();
    await expect(page.getByTestId('setup-outcome')).toContainText('Created the credential fp:', { timeout: 180_000 });
    // The outcome comes once ComfyUI answers and is protected; Docker's own healthcheck follows.
    await expect.poll(async () => (await docker().getContainer(name).inspect()).State.Health?.Status, { timeout: 60_000 }).toBe('healthy');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
