import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { HOMES, snap } from './panel.js';

/** The Electron binary, when `npm install` could download it (it cannot on CI machines here). */
function electronBinary(): { path?: string; why?: string } {
  try {
    const p = createRequire(import.meta.url)('electron') as string;
    return existsSync(p) ? { path: p } : { why: `Electron binary missing at ${p}` };
  } catch (e) {
    return { why: `Electron binary not installed (${(e as Error).message.split('\n')[0]}); installs with ELECTRON_SKIP_BINARY_DOWNLOAD=1 have none` };
  }
}

const bin = electronBinary();

test('desktop app: the hardened window shows the dashboard and the contract answers over IPC', async () => {
  test.skip(!bin.path, `SKIPPED Electron launch: ${bin.why}`);
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
