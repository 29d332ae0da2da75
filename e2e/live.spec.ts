// The live UI against the double container: one fetch of each piece of state per change (counted
// in the browser), transitional container states after Start/Restart/Stop, confirmations before
// restarts and rewrites (Cancel does nothing), Apply refused when a file changed since the preview.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import type { Page } from '@playwright/test';
import { expect, snap, test } from './panel.js';
import { docker, openPanel, useStack } from './stack.js';

const stack = useStack('live', { up: true, adopt: true, unify: true });

test.setTimeout(240_000);

/** Counts the renderer's calls per operation and the events pushed to it. */
function recordTraffic(page: Page) {
  const calls = new Map<string, number>();
  const events: { event: string; payload: { phase?: string } }[] = [];
  page.on('request', (r) => {
    const op = /\/api\/op\/(\w+)$/.exec(r.url())?.[1];
    if (op && r.method() === 'POST') calls.set(op, (calls.get(op) ?? 0) + 1);
  });
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      try {
        events.push(JSON.parse(String(f.payload)));
      } catch {
        // not an event frame
      }
    }),
  );
  return { count: (op: string) => calls.get(op) ?? 0, events };
}

/** Records every phase the Container card shows, in order, from inside the page. */
async function recordPhases(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { phases: string[] };
    w.phases = [];
    const read = () => {
      const p = document.querySelector('[data-testid=container-phase]')?.getAttribute('data-phase');
      if (p && w.phases.at(-1) !== p) w.phases.push(p);
    };
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });
    read();
  });
  return () => page.evaluate(() => (window as unknown as { phases: string[] }).phases);
}

const dockerHealth = async () => (await docker().getContainer(stack().containerName).inspect()).State.Health?.Status;

test('each piece of state is fetched once on load, once per sweep, and not again per card or page', async ({ page }) => {
  const panel = await openPanel(page, stack());
  try {
    // The panel sweeps once as it starts; wait for that sweep (this joins it), then count from a fresh load.
    expect((await page.request.post(`${panel.origin}/api/op/healthRun`, { data: {} })).ok()).toBe(true);
    const traffic = recordTraffic(page);
    await page.reload();
    const runAll = page.getByRole('button', { name: 'Run all checks now' });
    await expect(page.getByTestId('check-docker')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('container-phase')).toBeVisible();
    await expect(page.getByTestId('token-card-fingerprint')).toBeVisible();
    await expect(page.getByTestId('last-generation')).not.toContainText('Loading');
    // One sweep from the button: every check's event arrives, the view is fetched once, when it settles.
    const before = { health: traffic.count('healthStatus'), container: traffic.count('containerStatus'), token: traffic.count('tokenAudit') };
    expect(before).toEqual({ health: 1, container: 1, token: 1 });
    await runAll.click();
    await expect(runAll).toBeEnabled({ timeout: 30_000 });
    await expect.poll(() => traffic.count('healthStatus')).toBe(2);
    const healthEvents = traffic.events.filter((e) => e.event === 'health').length;
    expect(healthEvents).toBeGreaterThanOrEqual(11);
    // The audit is not fetched per event: only a check that changed status makes it stale.
    await expect(page.getByTestId('check-docker')).toHaveAttribute('data-status', 'ok');
    const tokenChecks = ['auth-accepts-token', 'auth-rejects-anonymous', 'token-consistency'];
    const tokenOk = await Promise.all(tokenChecks.map((id) => page.getByTestId(`check-${id}`).getAttribute('data-status')));
    if (tokenOk.every((s) => s === 'ok')) expect(traffic.count('tokenAudit')).toBe(1);
    expect(traffic.count('healthStatus')).toBe(2);
    // The container's status: once, plus once per state Docker reported since (a loaded engine's
    // healthcheck may flap), never once per event burst or per card.
    const containerStates = () => traffic.events.filter((e) => e.event === 'containerState').length;
    expect(traffic.count('containerStatus')).toBeLessThanOrEqual(1 + containerStates());

    // The Container page reads the same cached status the Dashboard card did; coming back needs no fetch.
    const [fetched, reported] = [traffic.count('containerStatus'), containerStates()];
    await page.goto(`${panel.origin}/#/container`);
    await expect(page.getByTestId('login-node')).toBeVisible();
    await page.goto(`${panel.origin}/#/dashboard`);
    await expect(page.getByTestId('check-docker')).toBeVisible();
    expect(traffic.count('containerStatus')).toBe(fetched + (containerStates() - reported));
    expect(traffic.count('healthStatus')).toBe(2);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});

test('Restart, Stop and Start show their transition at once, ask first where they stop ComfyUI, and Cancel does nothing', async ({ page }) => {
  const traffic = recordTraffic(page);
  const panel = await openPanel(page, stack(), '#/container');
  try {
    const card = page.getByTestId('container-state');
    const phase = page.getByTestId('container-phase');
    await expect(phase).toHaveAttribute('data-phase', 'healthy', { timeout: 60_000 });
    const phases = await recordPhases(page);
    const dialog = page.getByRole('dialog');

    // Restart asks, naming the container; Cancel sends nothing and changes nothing.
    await card.getByRole('button', { name: 'Restart' }).click();
    await expect(dialog).toContainText('Restart ComfyUI?');
    await expect(dialog).toContainText(stack().containerName);
    await snap(page, 'live-confirm-restart');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    expect(traffic.count('containerRestart')).toBe(0);
    expect(await phases()).toEqual(['healthy']);

    // Confirmed: "restarting" at once, then what Docker reports; never "stopped" on the way, and
    // "healthy" only once Docker's own healthcheck says so.
    await card.getByRole('button', { name: 'Restart' }).click();
    await dialog.getByRole('button', { name: 'Restart' }).click();
    await expect(phase).toHaveAttribute('data-phase', 'restarting');
    await expect(phase).toHaveAttribute('data-phase', 'healthy', { timeout: 60_000 });
    expect(await dockerHealth()).toBe('healthy');
    const restart = await phases();
    expect(restart.slice(0, 2), restart.join(' > ')).toEqual(['healthy', 'restarting']);
    expect(restart.slice(2), restart.join(' > ')).not.toContain('stopped');
    expect(restart.at(-1)).toBe('healthy');
    expect(traffic.count('containerRestart')).toBe(1);
    // One status fetch per state Docker reported, not one per event burst or card.
    const states = traffic.events.filter((e) => e.event === 'containerState').length;
    expect(traffic.count('containerStatus')).toBeLessThanOrEqual(states + 2);

    // Stop asks too; then "stopping", then stopped.
    await card.getByRole('button', { name: 'Stop' }).click();
    await expect(dialog).toContainText('Stop ComfyUI?');
    await dialog.getByRole('button', { name: 'Stop' }).click();
    await expect(phase).toHaveAttribute('data-phase', /stopping|stopped/);
    await expect(phase).toHaveAttribute('data-phase', 'stopped', { timeout: 60_000 });

    // Start needs no confirmation (ComfyUI is down already) and says "starting" from the click on, never "stopped".
    const beforeStart = (await phases()).length;
    await card.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(phase).toHaveAttribute('data-phase', 'starting');
    await expect(phase).toHaveAttribute('data-phase', 'healthy', { timeout: 60_000 });
    const all = await phases();
    const start = all.slice(beforeStart);
    expect(start[0], all.join(' > ')).toBe('starting');
    expect(start, all.join(' > ')).not.toContain('stopped');
    expect(await dockerHealth()).toBe('healthy');
  } finally {
    panel.proc.kill('SIGTERM');
  }
});

test('rewrites ask first and Cancel changes nothing; Apply applies exactly the preview, or refuses naming the changed file', async ({ page }) => {
  const traffic = recordTraffic(page);
  const notebook = path.join(stack().project, 'notebooks', '.env');
  // Another token in one copy: the audit offers to unify, the check offers "Fix it".
  const other = bcrypt.hashSync('another-password', 4);
  writeFileSync(notebook, `COMFYUI_API_TOKEN='${other}'\n`, { mode: 0o600 });
  const panel = await openPanel(page, stack(), '#/tokens');
  try {
    const dialog = page.getByRole('dialog');
    const useIt = page.getByRole('button', { name: 'Use this one everywhere' }).first();
    await expect(useIt).toBeVisible({ timeout: 30_000 });
    await useIt.click();
    await expect(dialog).toContainText('Use this token everywhere?');
    await expect(dialog).toContainText(stack().containerName);
    await expect(dialog.getByRole('list', { name: 'Files and places rewritten' })).toBeVisible();
    await snap(page, 'live-confirm-unify');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(traffic.count('tokenUnify')).toBe(0);
    expect(readFileSync(notebook, 'utf8')).toBe(`COMFYUI_API_TOKEN='${other}'\n`);

    // The same from the dashboard's "Fix it" on the red check.
    await page.goto(`${panel.origin}/#/dashboard`);
    await page.getByRole('button', { name: 'Run all checks now' }).click();
    const tile = page.getByTestId('check-token-consistency');
    await expect(tile).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
    await tile.getByRole('button', { name: /Fix it/ }).click();
    await expect(dialog).toContainText('Use this token everywhere?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(traffic.count('tokenUnify')).toBe(0);
    expect(readFileSync(notebook, 'utf8')).toBe(`COMFYUI_API_TOKEN='${other}'\n`);

    // Env sync: preview, then the file changes behind the operator's back: Apply refuses and shows the new plan.
    await page.goto(`${panel.origin}/#/env`);
    await page.getByRole('tab', { name: 'Sync' }).click();
    const sync = page.getByTestId('env-sync');
    await sync.getByRole('button', { name: 'Preview sync' }).click();
    await expect(sync).toContainText('notebooks/.env');
    await sync.getByRole('button', { name: 'Apply' }).click();
    await expect(dialog).toContainText('Rewrite the env files?');
    await expect(dialog).toContainText('notebooks/.env');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(traffic.count('envSyncApply')).toBe(0);

    // Another value lands in the previewed line meanwhile: what Apply would write is no longer what was read.
    const third = bcrypt.hashSync('a-third-password', 4);
    writeFileSync(notebook, `COMFYUI_API_TOKEN='${third}'\n`, { mode: 0o600 });
    await sync.getByRole('button', { name: 'Apply' }).click();
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await expect(sync.getByRole('alert')).toContainText('notebooks/.env changed since the preview');
    expect(traffic.count('envSyncApply')).toBe(0);
    expect(readFileSync(notebook, 'utf8')).toBe(`COMFYUI_API_TOKEN='${third}'\n`);
    await snap(page, 'live-sync-refused');

    // The new plan is on screen. A line it does not touch changes too: the plan read is still what
    // gets applied, and that line is kept.
    writeFileSync(notebook, `COMFYUI_API_TOKEN='${third}'\nEDITED_MEANWHILE=1\n`, { mode: 0o600 });
    await sync.getByRole('button', { name: 'Apply' }).click();
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('env-sync-outcome')).toContainText('each re-read by its own reader');
    expect(traffic.count('envSyncApply')).toBe(1);
    const written = readFileSync(notebook, 'utf8');
    expect(written).toContain('EDITED_MEANWHILE=1');
    expect(written).toContain(stack().credential.hash);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
