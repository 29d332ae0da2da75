// The fleet view in browser mode: three instances, two on ComfyUI doubles in this process (on the
// tests' engine) and one whose ComfyUI port is closed and whose engine is gone: its row shows why;
// a staged rotation shows its canary's steps live, and a browser notification names another instance.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import bcrypt from 'bcryptjs';
import { startComfyDouble, type ComfyDouble } from '../test/comfy-double/server.js';
import { expect, HOMES, NOTIFICATION_STUB, snap, startPanel, test, type PanelServer } from './panel.js';

const prefix = process.env.E2E_PREFIX ?? 'e2e-';
// Ports of this spec's own (the doubles, the closed one, the containers that are never created).
const PORT = { alpha: 8711, beta: 8712, closed: 8713 } as const;

let doubles: ComfyDouble[] = [];
let fleetPanel: PanelServer;
let fleetHome: string;

test.beforeAll(async () => {
  const home = (fleetHome = path.join(HOMES, `${prefix}fleet-${Date.now()}`));
  doubles = await Promise.all(
    (['alpha', 'beta'] as const).map((id) => {
      const dir = path.join(home, `comfy-${id}`);
      mkdirSync(dir, { recursive: true });
      return startComfyDouble({ dir, port: PORT[id], login: false });
    }),
  );
  // alpha and beta on the tests' engine (their containers need not exist), gamma on none.
  const engine = process.env.DOCKER_HOST ? { docker: { host: process.env.DOCKER_HOST } } : {};
  const instance = (id: string, label: string, url: string, hostPort: number, docker = engine) => ({ id, label, ...docker, comfyui: { url, timeoutMs: 2_000 }, container: { name: `${prefix}fleet-${id}`, hostPort } });
  fleetPanel = await startPanel(`${prefix}fleet`, {
    home,
    config: {
      // No engine answers here (gamma's): its Docker checks fail, its row still comes.
      docker: { host: `unix://${home}/no-engine.sock` },
      health: { intervalSec: 3_600, retries: 0, checkTimeoutMs: 2_000 },
      instances: [
        instance('alpha', 'Alpha box', doubles[0]!.url, 8721),
        instance('beta', 'Beta box', doubles[1]!.url, 8722),
        instance('gamma', 'Gamma box', `http://127.0.0.1:${PORT.closed}`, 8723, {}),
      ],
    },
  });
});

test.setTimeout(120_000);

test.afterAll(async () => {
  fleetPanel?.proc.kill('SIGTERM');
  await Promise.all(doubles.map((d) => d.close()));
});

test('the fleet is the home page: a row per instance, the down one with its error, a row opens its dashboard; capabilities; a staged rotation halting at its canary', async ({ page }) => {
  await page.addInitScript(NOTIFICATION_STUB);
  await page.goto(fleetPanel.url);
  await expect(page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Fleet' })).toHaveAttribute('aria-current', 'page');
  const rows = page.getByTestId('fleet-table').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('fleet-row-gamma').getByTestId('fleet-row-error')).toContainText('ComfyUI');
  await expect(page.getByTestId('fleet-row-gamma').getByTestId('fleet-row-error')).toContainText('engine');
  for (const id of ['alpha', 'beta']) {
    const row = page.getByTestId(`fleet-row-${id}`);
    await expect(row.getByTestId('fleet-row-error')).toHaveCount(0);
    await expect(row).toContainText('0 running · 0 pending');
  }
  await expect(page.getByTestId('fleet-row-gamma')).toContainText('no credential');
  await snap(page, 'fleet-home');
  const axe = async (what: string) => {
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), what).toEqual([]);
  };
  await axe('the fleet page');
  const theme = page.getByRole('combobox', { name: 'Theme' });
  await theme.selectOption('dark');
  await axe('the fleet page, dark theme');
  await theme.selectOption('system');

  // A click on the row (not on its link) opens that instance's dashboard, whose calls are beta's.
  const betaCall = page.waitForRequest((r) => r.url().endsWith('/api/op/healthStatus') && (r.postDataJSON() as { instance?: string }).instance === 'beta');
  await page.getByTestId('fleet-row-beta').locator('td').first().click();
  await betaCall;
  await expect(page).toHaveURL(/\?instance=beta#\/dashboard$/);
  const switcher = page.getByRole('combobox', { name: 'Instance' });
  await expect(switcher).toHaveValue('beta');
  await expect(page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Dashboard' })).toHaveAttribute('aria-current', 'page');

  // A reload keeps the instance; the switcher moves to another and keeps the page.
  await page.reload();
  await expect(switcher).toHaveValue('beta');
  const gammaCall = page.waitForRequest((r) => r.url().endsWith('/api/op/healthStatus') && (r.postDataJSON() as { instance?: string }).instance === 'gamma');
  await switcher.selectOption('gamma');
  await gammaCall;
  await expect(page).toHaveURL(/\?instance=gamma#\/dashboard$/);
  await page.goBack();
  await expect(switcher).toHaveValue('beta');

  // A confirmation's dialog reads the instance of the page that asked (it is hosted above the switcher).
  const dialogReads: unknown[] = [];
  const fleetReads: string[] = [];
  page.on('request', (r) => {
    if (/\/api\/op\/(tokenAudit|containerStatus)$/.test(r.url())) dialogReads.push(r.postDataJSON());
    if (r.url().endsWith('/api/op/fleetStatus')) fleetReads.push(r.url());
  });
  // A fresh cache (a new load): what the dialog shows is fetched for it, not found cached.
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Tokens' }).click();
  await page.reload();
  await page.getByRole('button', { name: 'Create credential' }).click();
  await expect(page.getByRole('dialog')).toContainText("the panel's vault (encrypted)");
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  expect(dialogReads.length).toBeGreaterThan(0);
  expect(dialogReads.filter((body) => (body as { instance?: string }).instance !== 'beta')).toEqual([]);
  // An instance's page, loaded afresh, asks nothing of the whole fleet (the notifier only reads what the Fleet page fetched).
  expect(fleetReads).toEqual([]);

  // The sign-in link works once: the rest goes on in this page, back on the fleet view.
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Fleet' }).click();
  const caps = page.getByTestId('fleet-capabilities');
  await caps.getByRole('combobox', { name: 'Workflow' }).selectOption('smoke');
  await caps.getByRole('button', { name: 'Check every instance' }).click();
  await expect(caps.getByTestId('capability-matrix').locator('tbody tr')).toHaveCount(3);
  await expect(caps.getByTestId('capability-row-alpha')).toHaveAttribute('data-ok', 'true');
  await expect(caps.getByTestId('capability-row-gamma')).toHaveAttribute('data-ok', 'false');

  // Beta gets a credential (adopted from an env file), so its rotation runs steps before it fails: its
  // container does not exist. Every progress line the page shows, however briefly, is recorded.
  const envFile = path.join(fleetHome, 'secrets', 'beta.env');
  mkdirSync(path.dirname(envFile), { recursive: true });
  writeFileSync(envFile, `COMFYUI_TOKEN='${bcrypt.hashSync('fleet-beta', 4)}'\n`, { mode: 0o600 });
  expect((await page.request.post(`${fleetPanel.origin}/api/op/tokenImport`, { data: { instance: 'beta', from: 'env', file: envFile, key: 'COMFYUI_TOKEN' } })).ok()).toBe(true);
  await page.evaluate(() => {
    const w = window as unknown as { progress: string[] };
    w.progress = [];
    const record = () => document.querySelectorAll('[data-testid^="rotation-progress-"]').forEach((li) => w.progress.push(li.lastElementChild?.textContent ?? ''));
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

  // Its container absent: the canary fails, the rotation halts there and touches no other instance.
  const rotation = page.getByTestId('fleet-rotation');
  await rotation.getByRole('combobox', { name: 'Canary' }).selectOption('beta');
  await rotation.getByRole('spinbutton', { name: 'Wave size' }).fill('2');
  await rotation.getByRole('button', { name: 'Rotate every instance' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('beta rotates first, alone; then the other 2 instance(s), 2 at a time.');
  await dialog.getByRole('button', { name: 'Yes, rotate in stages' }).click();
  await expect(rotation.getByTestId('rotation-halted')).toContainText('Halted at beta', { timeout: 30_000 });
  // While it ran, the card showed beta's steps as they came (its label, the step, its state).
  const progress = await page.evaluate(() => (window as unknown as { progress: string[] }).progress);
  expect(progress).toContainEqual(expect.stringMatching(/^Beta box: generate (started|ok)/));
  expect(progress.filter((line) => !line.startsWith('Beta box: '))).toEqual([]);
  await expect(rotation.getByTestId('rotation-progress')).toHaveCount(0);
  await axe('the fleet page with its rotation and capability tables');
  await expect(rotation.getByTestId('rotation-row-beta')).not.toHaveAttribute('data-outcome', 'committed');
  for (const id of ['alpha', 'gamma']) await expect(rotation.getByTestId(`rotation-row-${id}`)).toHaveAttribute('data-outcome', 'not-started');
  await snap(page, 'fleet-rotation-halted');

  // Resume asks again, then continues the halted rotation (which halts at beta again).
  await rotation.getByRole('button', { name: 'Resume' }).click();
  await expect(dialog).toContainText('The staged rotation that halted continues');
  await dialog.getByRole('button', { name: 'Yes, rotate in stages' }).click();
  await expect(rotation.getByTestId('rotation-halted')).toContainText('Halted at beta', { timeout: 30_000 });

  // Browser notifications hear every instance, not only the one shown (beta): alpha's ComfyUI goes away.
  await page.evaluate(() => sessionStorage.setItem('permission', 'granted'));
  await doubles[0]!.close();
  expect((await page.request.post(`${fleetPanel.origin}/api/op/healthRun`, { data: { instance: 'alpha' } })).ok()).toBe(true);
  const shown = () => page.evaluate(() => (window as unknown as { shown: { title: string }[] }).shown.map((n) => n.title));
  await expect.poll(shown, { timeout: 15_000 }).toContain('Alpha box · ComfyUI version: OK → Unknown');
});

test('one instance: no switcher, no fleet page, the dashboard is home and its calls name no instance', async ({ page }) => {
  // A panel of its own: the worker's sign-in link works once, and another spec signs in with it.
  const panel = await startPanel(`${prefix}fleet-one`, { config: {} });
  try {
    const call = page.waitForRequest((r) => r.url().endsWith('/api/op/healthStatus'));
    await page.goto(panel.url);
    expect((await call).postDataJSON()).toEqual({});
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await expect(nav.getByRole('link', { name: 'Dashboard' })).toHaveAttribute('aria-current', 'page');
    await expect(nav.getByRole('link', { name: 'Fleet' })).toHaveCount(0);
    await expect(page.getByRole('combobox', { name: 'Instance' })).toHaveCount(0);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
