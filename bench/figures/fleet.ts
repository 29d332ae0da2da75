/**
 * The fleet page's render time with 50 instances (issue 19: under 200 ms), in Debian's Chromium,
 * against the same page with the smallest fleet (2 instances) measured in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startComfyDouble } from '../../test/comfy-double/server.js';
import { measurement, type Figure } from '../measurement.js';
import { median } from '../stats.js';
import { ensureBuilt, signInLink, startServe, stopServe, type ServeProcess } from '../support/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const FLEET = 50;
const SMALLEST = 2;

/** N instances on one ComfyUI double (GPU and queue in every row) and on no Docker engine (the checks fail fast). */
function fleetConfig(n: number, comfyUrl: string, dir: string): object {
  return {
    docker: { host: `unix://${dir}/no-engine.sock` },
    health: { intervalSec: 3_600, retries: 0, checkTimeoutMs: 2_000 },
    instances: Array.from({ length: n }, (_, i) => ({
      id: `box-${i + 1}`,
      label: `GPU box ${i + 1}`,
      comfyui: { url: comfyUrl, timeoutMs: 2_000 },
      container: { name: `bench-fleet-${i + 1}`, hostPort: 20_000 + i },
    })),
  };
}

/**
 * Runs in the page before its scripts: the time the fleetStatus answer reached the page, and the
 * second animation frame after the table holds `rows` rows (the first frame with them painted).
 */
const probe = (rows: number) => `(() => {
  const mark = { dataAt: 0, paintedAt: 0 };
  window.__fleetRender = mark;
  const fetch0 = window.fetch.bind(window);
  window.fetch = async (...args) => {
    const res = await fetch0(...args);
    if (!mark.dataAt && String(args[0]).endsWith('/api/op/fleetStatus')) mark.dataAt = performance.now();
    return res;
  };
  new MutationObserver((_, observer) => {
    if (document.querySelectorAll('[data-testid=fleet-table] tbody tr').length < ${rows}) return;
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => (mark.paintedAt = performance.now())));
  }).observe(document, { childList: true, subtree: true });
})()`;

interface Probed {
  __fleetRender: { dataAt: number; paintedAt: number };
}

/** One cold load of the fleet page (fresh context): ms from its data's arrival to the rows on screen. */
async function renderTime(browser: Browser, serve: ServeProcess, rows: number): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    await context.addInitScript(probe(rows));
    const page = await context.newPage();
    await page.goto(await signInLink(serve));
    // Functions, not strings (the panel's CSP refuses eval); each runs in the page on its own.
    await page.waitForFunction(() => (globalThis as unknown as Probed).__fleetRender.paintedAt > 0, undefined, { timeout: 30_000 });
    return await page.evaluate(() => {
      const mark = (globalThis as unknown as Probed).__fleetRender;
      return mark.paintedAt - mark.dataAt;
    });
  } finally {
    await context.close();
  }
}

export const fleetFigure: Figure = {
  id: 'fleet',
  title: 'fleet: the fleet page with 50 instances',
  async run(sizes, progress) {
    await ensureBuilt(sizes.build);
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-fleet-'));
    const comfy = await startComfyDouble({ dir, login: false });
    const serves: ServeProcess[] = [];
    let browser: Browser | undefined;
    try {
      const small = await startServe({ config: fleetConfig(SMALLEST, comfy.url, dir) });
      serves.push(small);
      const large = await startServe({ config: fleetConfig(FLEET, comfy.url, dir) });
      serves.push(large);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      // Warm-up: the servers' first sweeps and reads, Chromium's first process.
      await renderTime(browser, small, SMALLEST);
      await renderTime(browser, large, FLEET);
      const smallMs: number[] = [];
      const largeMs: number[] = [];
      for (let n = 0; n < sizes.paintRuns; n++) {
        smallMs.push(await renderTime(browser, small, SMALLEST));
        largeMs.push(await renderTime(browser, large, FLEET));
      }
      progress(`fleet: ${sizes.paintRuns} cold loads of each fleet page done (${largeMs.map((m) => m.toFixed(0)).join(', ')} ms)`);
      return [
        measurement({
          id: 'fleet.render-50',
          label: `fleet page with ${FLEET} instances: from the fleetStatus answer to the first frame showing all ${FLEET} rows, median of ${sizes.paintRuns} cold loads`,
          value: median(largeMs),
          unit: 'ms',
          baseline: median(smallMs),
          baselineLabel: `the same page with ${SMALLEST} instances`,
          target: { kind: 'value-max', limit: 200, text: '< 200 ms' },
          note: `browser mode (comfy-panel serve) in ${CHROMIUM}, 1280x860; every row on one ComfyUI double, no Docker engine`,
        }),
      ];
    } finally {
      await browser?.close();
      for (const s of serves) await stopServe(s, progress);
      await comfy.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
