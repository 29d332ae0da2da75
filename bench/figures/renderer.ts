/**
 * Figure 6: the renderer's gzipped size (against its raw size) and the time to the first
 * dashboard paint in Debian's Chromium (against a blank page served the same way).
 */
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { packageRoot } from '../../app/package-root.js';
import { measurement, type Figure } from '../measurement.js';
import { ensureBuilt, signInLink, startServe, stopServe } from '../support/serve.js';
import { median, timed } from '../stats.js';

const CHROMIUM = '/usr/bin/chromium';
const HEADLINE = '[data-testid=health-headline]';
const BLANK_HTML = '<!doctype html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>';

/** Raw and gzipped bytes of every file the browser may download (source maps excluded). */
export async function bundleSize(dir: string): Promise<{ raw: number; gzip: number; files: number }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && !e.name.endsWith('.map')).map((e) => path.join(e.parentPath, e.name));
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const body = await readFile(f);
    raw += body.length;
    gzip += gzipSync(body).length;
  }
  return { raw, gzip, files: files.length };
}

/** A local page with nothing in it: the browser's own cost of a load, for the baseline. */
async function startBlankServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(BLANK_HTML);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One cold load (fresh context: no cache, no cookie) until `ready` resolves. */
async function coldLoad(browser: Browser, url: string, ready: (page: Page) => Promise<unknown>): Promise<number> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    return (await timed(async () => {
      await page.goto(url);
      await ready(page);
    })).ms;
  } finally {
    await context.close();
  }
}

export const rendererFigure: Figure = {
  id: 'renderer',
  title: 'renderer: bundle size and first dashboard paint',
  async run(sizes, progress) {
    await ensureBuilt(sizes.build);
    const size = await bundleSize(path.join(packageRoot(), 'dist', 'renderer'));
    const rows = [
      measurement({
        id: 'renderer.bundle-gzip',
        label: `dist/renderer, ${size.files} files, gzip default level`,
        value: size.gzip / 1024,
        unit: 'KB',
        baseline: size.raw / 1024,
        baselineLabel: 'the same files uncompressed',
        target: { kind: 'value-max', limit: 300, text: '< 300 KB gzipped' },
      }),
    ];
    const serve = await startServe({ config: {} });
    const blank = await startBlankServer();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      // Each sign-in link works once: every cold load gets a new one from the launch key.
      const dashboard = async () => coldLoad(browser, await signInLink(serve), (page) => page.locator(HEADLINE).waitFor({ state: 'visible' }));
      const empty = () => coldLoad(browser, blank.url, (page) => page.waitForLoadState('load'));
      await dashboard(); // warm-up: the server's first reads and Chromium's first process
      await empty();
      const dashMs: number[] = [];
      const blankMs: number[] = [];
      for (let n = 0; n < sizes.paintRuns; n++) {
        dashMs.push(await dashboard());
        blankMs.push(await empty());
      }
      progress(`renderer: ${sizes.paintRuns} cold loads each done`);
      rows.push(
        measurement({
          id: 'renderer.first-paint',
          label: `cold load of the served URL until ${HEADLINE} is visible, median of ${sizes.paintRuns}`,
          value: median(dashMs),
          unit: 'ms',
          baseline: median(blankMs),
          baselineLabel: 'blank page from a local server, to load',
          note: `browser mode (comfy-panel serve, config {}) in ${CHROMIUM}; no target given`,
        }),
      );
      return rows;
    } finally {
      await browser.close();
      await blank.close();
      await stopServe(serve, progress);
    }
  },
};
