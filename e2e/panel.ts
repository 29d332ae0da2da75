import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test as base, expect, type Page } from '@playwright/test';
import { chromiumPath } from '../playwright.config.js';

/** Everything e2e runs leave behind, scanned afterwards for leaked secrets (scripts/leak-scan.ts). */
export const OUT = path.resolve('e2e-output');
export const HOMES = path.join(OUT, 'homes');
const LOGS = path.join(OUT, 'logs');
const PAYLOADS = path.join(OUT, 'payloads');
const SECRET_OPS = ['tokenClientEnv', 'clientKeyCreate', 'clientKeyRotate'];

export interface PanelServer {
  url: string;
  origin: string;
  home: string;
  proc: ChildProcess;
}

/**
 * Starts `comfy-panel serve` exactly as an operator would, with its own COMFY_PANEL_HOME under
 * e2e-output/homes (or `home`); `config` (when given) is written as its config file first; a home
 * without a config file starts unconfigured (first run).
 */
export async function startPanel(name: string, opts: { config?: object; env?: Record<string, string>; home?: string } = {}): Promise<PanelServer> {
  const home = opts.home ?? path.join(HOMES, `${name}-${Date.now()}`);
  mkdirSync(home, { recursive: true });
  if (opts.config) writeFileSync(path.join(home, 'config.json'), JSON.stringify(opts.config, null, 2), { mode: 0o600 });
  mkdirSync(LOGS, { recursive: true });
  const log = path.join(LOGS, `${path.basename(home)}.log`);
  const proc = spawn(process.execPath, ['bin/comfy-panel.mjs', 'serve', '--port', '0', '--json'], {
    env: { ...process.env, COMFY_PANEL_HOME: home, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stderr.on('data', (d: Buffer) => appendFileSync(log, d));
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`comfy-panel serve exited with ${code}; see ${log}`)));
  });
  appendFileSync(log, `${first}\n`);
  const { url } = JSON.parse(first) as { url: string };
  return { url, origin: new URL(url).origin, home, proc };
}

/** A screenshot plus the page's visible text, so the leak scan can read what the operator saw. */
export async function snap(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  writeFileSync(path.join(OUT, `${name}.txt`), await page.locator('body').innerText());
}

export const test = base.extend<{ recordPayloads: void }, { panel: PanelServer }>({
  panel: [
    async ({}, use, workerInfo) => {
      if (!existsSync(chromiumPath) && process.env.CI) throw new Error(`CI requires Chromium at ${chromiumPath} (apt-get install -y chromium)`);
      const panel = await startPanel(`worker${workerInfo.workerIndex}`, { config: {} });
      await use(panel);
      panel.proc.kill('SIGTERM');
    },
    { scope: 'worker' },
  ],
  // Every payload the renderer receives (operation results, pushed events) is kept for the leak scan.
  recordPayloads: [
    async ({ page }, use, testInfo) => {
      mkdirSync(PAYLOADS, { recursive: true });
      const file = path.join(PAYLOADS, `${testInfo.titlePath.join(' ').replace(/[^\w.-]+/g, '_').slice(0, 120)}.jsonl`);
      page.on('response', (res) => {
        // The operations whose answer is a secret, on an explicit click, straight to the clipboard: the token's env lines, a new client key.
        if (!res.url().includes('/api/op/') || SECRET_OPS.some((op) => res.url().endsWith(`/api/op/${op}`))) return;
        void res.text().then(
          (body) => appendFileSync(file, `${body}\n`),
          () => undefined,
        );
      });
      page.on('websocket', (ws) => ws.on('framereceived', (f) => appendFileSync(file, `${String(f.payload)}\n`)));
      await use();
    },
    { auto: true },
  ],
});

export { expect };

/** A stand-in for the browser's Notification API that records what the page shows; its permission survives reloads. */
export const NOTIFICATION_STUB = () => {
  const w = window as unknown as { shown: { title: string; body: string }[]; asks: number };
  w.shown = [];
  w.asks = Number(sessionStorage.getItem('asks') ?? 0);
  class StubNotification {
    static get permission() {
      return sessionStorage.getItem('permission') ?? 'default';
    }
    static async requestPermission() {
      sessionStorage.setItem('asks', String(++w.asks));
      sessionStorage.setItem('permission', 'granted');
      return 'granted';
    }
    constructor(title: string, opts: { body?: string } = {}) {
      w.shown.push({ title, body: opts.body ?? '' });
    }
  }
  Object.defineProperty(window, 'Notification', { value: StubNotification, configurable: true });
};
