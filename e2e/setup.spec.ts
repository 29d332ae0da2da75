import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, snap, startPanel, test } from './panel.js';
import { docker, freePort, makeCredential, newStack, type Stack } from './stack.js';

let stack: Stack;
const decoyName = () => `${stack.containerName}-other`;

/** A ComfyUI container made outside the panel (as compose or docker run would), reading its token from `secretFile`. */
async function startOutsideContainer(name: string, port: number, secretFile: string) {
  const image = (stack.config.container as { image: string }).image;
  const c = await docker().createContainer({
    name,
    Image: image,
    Env: ['COMFYUI_SECRET_FILE=/run/secrets/comfyui-password'],
    ExposedPorts: { '8188/tcp': {} },
    HostConfig: { PortBindings: { '8188/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] }, Binds: [`${secretFile}:/run/secrets/comfyui-password:ro`] },
  });
  await c.start();
}

test.beforeAll(async () => {
  stack = await newStack('setup');
  await startOutsideContainer(stack.containerName, stack.port, stack.secretFile);
  // A second ComfyUI on the same engine with another token: its credential must not be offered for ours.
  const other = makeCredential();
  const otherSecret = path.join(path.dirname(stack.secretFile), 'other-password');
  writeFileSync(otherSecret, `${other.hash}\n${other.username}`, { mode: 0o600 });
  await startOutsideContainer(decoyName(), await freePort(), otherSecret);
  // First run: the panel has no config file yet.
  rmSync(path.join(stack.home, 'config.json'));
});
test.afterAll(async () => {
  await stack?.removeContainer();
  if (stack) await docker().getContainer(decoyName()).remove({ force: true }).catch(() => undefined);
});

test('first run: from an empty config to an adopted double container with an imported credential', async ({ page }) => {
  const panel = await startPanel('setup', { home: stack.home });
  try {
    await page.goto(panel.url);
    await expect(page.getByRole('heading', { name: 'Set up the panel' })).toBeVisible();
    await expect(page.getByText(/Docker .* answered at/)).toBeVisible();
    await snap(page, 'setup-engine');
    await page.getByRole('button', { name: 'Continue' }).click();

    // Nothing is preselected: the decoy (another deployment) is never chosen for the operator.
    await expect(page.getByRole('radio', { checked: true })).toHaveCount(0);
    await page.getByRole('radio', { name: new RegExp(`${stack.containerName} `) }).check();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Only the chosen container's token is offered (importing reads the configured container).
    const review = page.getByTestId('setup-review');
    await expect(review).toContainText(`container:${stack.containerName}`);
    await expect(review).not.toContainText(`container:${decoyName()}`);
    await expect(page.getByTestId('setup-adopted')).toContainText(stack.secretFile);
    await review.getByRole('button', { name: 'Adopt these values' }).click();
    await expect(page.getByTestId('setup-outcome')).toContainText('Imported fp:');
    await snap(page, 'setup-credential');
    await page.getByRole('button', { name: 'Open the dashboard' }).click();

    // The dashboard replaces the setup, and the adopted container answers to the imported token.
    await page.getByRole('button', { name: 'Run all checks now' }).click();
    for (const id of ['container', 'login-node', 'auth-accepts-token']) await expect(page.getByTestId(`check-${id}`), id).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
    await snap(page, 'setup-done-dashboard');

    // The Container page says plainly what the panel may change on the adopted container.
    await page.goto(`${panel.origin}/#/container`);
    const config = page.getByTestId('container-config');
    await config.getByRole('button', { name: 'Compare with configuration' }).click();
    await expect(config).toContainText('Made outside the panel');
    await expect(config).toContainText('It cannot change image, env, ports, mounts');
    await snap(page, 'setup-adopted-container');

    const configFile = path.join(stack.home, 'config.json');
    expect(existsSync(configFile)).toBe(true);
    const saved = JSON.parse(readFileSync(configFile, 'utf8'));
    expect(saved.container.name).toBe(stack.containerName);
    expect(saved.comfyui.url).toBe(`http://127.0.0.1:${stack.port}`);
  } finally {
    panel.proc.kill('SIGTERM');
  }
});
