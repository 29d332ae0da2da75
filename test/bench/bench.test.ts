/**
 * Smoke test of `npm run bench`: every figure runs with tiny sizes against the real
 * components and returns well-formed rows. Only the shape is checked, never the speed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../app/package-root.js';
import { bundlesFigure } from '../../bench/figures/bundles.js';
import { comfyFigure } from '../../bench/figures/comfy.js';
import { containerFigure } from '../../bench/figures/container.js';
import { envFigure, realisticEnv } from '../../bench/figures/env.js';
import { fleetSweepFigure } from '../../bench/figures/fleet-sweep.js';
import { healthFigure } from '../../bench/figures/health.js';
import { figures } from '../../bench/figures/index.js';
import { logsFigure } from '../../bench/figures/logs.js';
import { memoryFigure } from '../../bench/figures/memory.js';
import { rendererFigure } from '../../bench/figures/renderer.js';
import { rotationFigure } from '../../bench/figures/rotation.js';
import { serveFigure } from '../../bench/figures/serve.js';
import { measurement, type Figure, type Measurement } from '../../bench/measurement.js';
import { formatTable } from '../../bench/report.js';
import { runFigures, selectFigures } from '../../bench/runner.js';
import { DEFAULT_SIZES, sizesFromEnv, type BenchSizes } from '../../bench/sizes.js';
import { requireDocker } from '../support/docker.js';

// Rotation and its baseline hash both follow the test cost, so the smoke test stays fast.
process.env.COMFY_PANEL_TEST_BCRYPT_COST = '4';

const root = packageRoot();
const built = ['dist/cli.mjs', 'dist/renderer/index.html'].every((f) => existsSync(path.join(root, f)));
const TINY: BenchSizes = {
  envLines: 300,
  envRuns: 2,
  requests: 20,
  concurrency: 2,
  rounds: 2,
  probeRequests: 10,
  sweeps: 1,
  rotations: 1,
  logLines: 500,
  logRounds: 1,
  paintRuns: 1,
  memoryLines: 500,
  serveSeconds: 3,
  fleetInstances: 2,
  // Reuse an existing build: the smoke test checks shapes, and other suites may be reading dist/.
  build: !built,
};
const CHROMIUM = '/usr/bin/chromium';

function expectWellFormed(rows: Measurement[], figure: Figure, ids: string[]): void {
  expect(rows.map((r) => r.id)).toEqual(ids);
  for (const r of rows) {
    expect(r.id.startsWith(`${figure.id}.`)).toBe(true);
    for (const n of [r.value, r.baseline, r.ratio]) {
      expect(Number.isFinite(n)).toBe(true);
      expect(n).toBeGreaterThan(0);
    }
    expect(r.ratio).toBeCloseTo(r.value / r.baseline, 9);
    expect(r.unit).not.toBe('');
    expect(r.label).not.toBe('');
    expect(r.baselineLabel).not.toBe('');
    if (r.target) expect(typeof r.met).toBe('boolean');
    else expect(r.met).toBeNull();
  }
  // The JSON report must carry the rows unchanged.
  expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
}

const run = (figure: Figure) => figure.run(TINY, () => undefined);

describe('bench plumbing', () => {
  it('computes the ratio and whether each kind of target is met', () => {
    const base = { id: 'x.y', label: 'l', unit: 'ms', baselineLabel: 'b' };
    expect(measurement({ ...base, value: 3, baseline: 2, target: { kind: 'ratio-max', limit: 2, text: '' } })).toMatchObject({ ratio: 1.5, met: true });
    expect(measurement({ ...base, value: 5, baseline: 2, target: { kind: 'ratio-max', limit: 2, text: '' } }).met).toBe(false);
    expect(measurement({ ...base, value: 301, baseline: 900, target: { kind: 'value-max', limit: 300, text: '' } }).met).toBe(false);
    expect(measurement({ ...base, value: 99.5, baseline: 100, target: { kind: 'value-min', limit: 100, text: '' } }).met).toBe(false);
    expect(measurement({ ...base, value: 1, baseline: 1 }).met).toBeNull();
  });

  it('refuses a ratio that is not finite and positive, naming the row', () => {
    const base = { id: 'x.zero', label: 'l', unit: 'ms', baselineLabel: 'b' };
    expect(() => measurement({ ...base, value: 1, baseline: 0 })).toThrow(/x\.zero: no usable ratio/);
    expect(() => measurement({ ...base, value: Number.NaN, baseline: 1 })).toThrow(/x\.zero/);
  });

  it('prints missed targets and unmeasured figures, and the runner records a failing figure without stopping', async () => {
    const ok: Figure = { id: 'ok', title: 'ok', run: async () => [measurement({ id: 'ok.a', label: 'a', unit: 'ms', value: 4, baseline: 1, baselineLabel: 'b', target: { kind: 'ratio-max', limit: 2, text: '<= 2x' } })] };
    const broken: Figure = { id: 'broken', title: 'broken', run: () => Promise.reject(new Error('engine gone\nstack')) };
    const report = await runFigures([broken, ok], TINY, () => undefined);
    expect(report.failures).toEqual([{ figure: 'broken', error: 'engine gone' }]);
    expect(report.measurements.map((m) => m.id)).toEqual(['ok.a']);
    const table = formatTable(report);
    expect(table).toMatch(/^ok\.a\s+4 ms\s+1 ms\s+4x\s+<= 2x\s+MISSED$/m);
    expect(table).toContain('NOT MEASURED broken: engine gone');
    expect(table).toContain('targets missed: ok.a; not measured: broken');
  });

  it('reads sizes and the figure selection from the environment, rejecting bad values by name', () => {
    expect(sizesFromEnv({})).toEqual(DEFAULT_SIZES);
    expect(sizesFromEnv({ BENCH_LOG_LINES: '500', BENCH_BUILD: '0' })).toMatchObject({ logLines: 500, build: false });
    expect(() => sizesFromEnv({ BENCH_REQUESTS: '1e' })).toThrow(/BENCH_REQUESTS=1e/);
    expect(() => sizesFromEnv({ BENCH_SWEEPS: '0' })).toThrow(/BENCH_SWEEPS/);
    expect(selectFigures(figures, 'logs, env').map((f) => f.id)).toEqual(['env', 'logs']);
    expect(() => selectFigures(figures, 'env,gpu')).toThrow(/unknown figure gpu; known: env, comfy, health, rotation, logs, renderer, memory, bundles, gateway, serve/);
  });

  it('generates the requested number of .env lines', () => {
    expect(realisticEnv(1000).split('\n')).toHaveLength(1001);
  });
});

describe('figures without Docker', () => {
  it('env', async () => expectWellFormed(await run(envFigure), envFigure, ['env.parse', 'env.audit-duplicates', 'env.audit-memory']));
  it('comfy', async () => expectWellFormed(await run(comfyFigure), comfyFigure, ['comfy.client-overhead', 'comfy.probe-success']));
  it('rotation', async () => expectWellFormed(await run(rotationFigure), rotationFigure, ['rotation.downtime', 'rotation.restartSteps', 'rotation.total']));
  it('bundles', async () => expectWellFormed(await run(bundlesFigure), bundlesFigure, ['bundles.preload', 'bundles.renderer-gzip']), 180_000);
  it('serve against endless answers', async () => expectWellFormed(await run(serveFigure), serveFigure, ['serve.rss-endless']), 120_000);
  it.skipIf(!existsSync(CHROMIUM))('renderer (Chromium)', async () => expectWellFormed(await run(rendererFigure), rendererFigure, ['renderer.bundle-gzip', 'renderer.first-paint']), 120_000);
});

const d = await requireDocker();
describe.skipIf(!d.ok)('figures with Docker', () => {
  it('health', async () => expectWellFormed(await run(healthFigure), healthFigure, ['health.sweep']));
  it('logs', async () => expectWellFormed(await run(logsFigure), logsFigure, ['logs.throughput']), 120_000);
  it('memory', async () => expectWellFormed(await run(memoryFigure), memoryFigure, ['memory.rss', 'memory.heap']), 120_000);
  it('fleet sweep', async () => expectWellFormed(await run(fleetSweepFigure), fleetSweepFigure, ['fleet-sweep.ratio']), 180_000);
  it.skipIf(!built)('container status and CLI start', async () => expectWellFormed(await run(containerFigure), containerFigure, ['container.status', 'container.cli-version', 'container.cli-status']), 240_000);
});
