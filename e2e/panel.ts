import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test as base, expect } from '@playwright/test';
import { chromiumPath } from '../playwright.config.js';

export interface PanelServer {
  url: string;
  origin: string;
  home: string;
  proc: ChildProcess;
  /** Everything the server printed, for the secret-leak scan. */
  output: string[];
}

/** Starts `comfy-panel serve` exactly as an operator would, with its own COMFY_PANEL_HOME. */
export async function startPanel(env: Record<string, string> = {}): Promise<PanelServer> {
  const home = env.COMFY_PANEL_HOME ?? (await mkdtemp(path.join(os.tmpdir(), 'panel-e2e-')));
  const proc = spawn(process.execPath, ['bin/comfy-panel.mjs', 'serve', '--port', '0', '--json'], {
    env: { ...process.env, COMFY_PANEL_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`comfy-panel serve exited with ${code}: ${output.join('')}`)));
  });
  output.push(first);
  const { url } = JSON.parse(first) as { url: string };
  return { url, origin: new URL(url).origin, home, proc, output };
}

export const test = base.extend<object, { panel: PanelServer }>({
  panel: [
    async ({}, use) => {
      if (!existsSync(chromiumPath)) {
        const why = `Chromium not found at ${chromiumPath} (apt-get install -y chromium)`;
        if (process.env.CI) throw new Error(`CI requires Chromium: ${why}`);
      }
      const panel = await startPanel();
      await use(panel);
      panel.proc.kill('SIGTERM');
    },
    { scope: 'worker' },
  ],
});

export { expect };
