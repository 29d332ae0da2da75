import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { electronBinary } from '../scripts/electron-binary.js';
import { HOMES, snap } from './panel.js';

const bin = electronBinary();

test('desktop app: the hardened window shows the dashboard and the contract answers over IPC', async () => {
  test.skip(!('path' in bin), `SKIPPED Electron launch: ${'why' in bin ? bin.why : ''}`);
  if (!('path' in bin)) return;
  const home = path.join(HOMES, `electron-${Date.now()}`);
  mkdirSync(home, { recursive: true });
  const app = await electron.launch({
    executablePath: bin.path,
    args: ['dist/main/main.cjs', '--no-sandbox'],
    env: { ...process.env, COMFY_PANEL_HOME: home },
  });
  const win = await app.firstWindow();
  await expect(win.getByTestId('app-version')).toHaveText(/· electron$/);
  // Sandboxed, isolated, no Node in the page: only the one namespaced bridge is exposed.
  const page = await win.evaluate(() => ({
    require: typeof (window as unknown as { require?: unknown }).require,
    process: typeof (window as unknown as { process?: unknown }).process,
    bridge: Object.keys((window as unknown as { comfyPanel: object }).comfyPanel).sort(),
  }));
  expect(page).toEqual({ require: 'undefined', process: 'undefined', bridge: ['on', 'ops'] });
  await snap(win, 'electron-dashboard');
  await app.close();
});
