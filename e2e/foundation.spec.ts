import { expect, snap, test } from './panel.js';

test('browser mode: dashboard renders, a contract call round-trips, and the key is required', async ({ page, panel, request }) => {
  const anonymous = await request.get(`${panel.origin}/`, { maxRedirects: 0 });
  expect(anonymous.status()).toBe(401);
  const anonymousApi = await request.post(`${panel.origin}/api/op/appInfo`, { data: {} });
  expect(anonymousApi.status()).toBe(401);

  await page.goto(panel.url);
  // The key is traded for a cookie and leaves the address bar.
  await expect(page).toHaveURL(`${panel.origin}/`);
  await expect(page.getByRole('heading', { name: 'ComfyUI Control Panel' })).toBeVisible();
  await expect(page.getByTestId('app-version')).toHaveText(/^v\d+\.\d+\.\d+ · browser$/);
  // A round trip through the core to the Docker engine: the docker check turns green.
  await page.getByRole('button', { name: 'Run all checks now' }).click();
  await expect(page.getByTestId('check-docker')).toHaveAttribute('data-status', 'ok');
  await snap(page, 'foundation-dashboard');

  // The cookie is this server's (named after its port), host-only, Path=/, expiring.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === `comfy_panel_${new URL(panel.origin).port}`);
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Strict');
  expect(session?.path).toBe('/');
  expect(session?.expires).toBeGreaterThan(Date.now() / 1000);
  // The sign-in link worked once: opened again (history, another browser) it signs nobody in.
  expect((await request.get(panel.url, { maxRedirects: 0 })).status()).toBe(401);
});
