/**
 * Health against a hostile ComfyUI (issue 16 item 17 and the checks' budgets): a 10 MB version
 * string must not be stored or emitted verbatim, sweep after sweep.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { CheckResult } from '../../app/contract/ops/health.js';
import { comfyuiVersionCheck } from '../../app/health/checks/comfyui-version.js';
import { HealthHistory, historyFile } from '../../app/health/history.js';
import { HealthMonitor } from '../../app/health/monitor.js';
import { MAX_MESSAGE_CHARS } from '../../app/health/runner.js';
import { startHostileComfy, type HostileComfy } from '../hostile/server.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'health-hostile-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
let h: HostileComfy;
beforeAll(async () => {
  h = await startHostileComfy({ '/system_stats': { kind: 'huge-version', bytes: 200_000 } });
});
afterAll(async () => {
  await h.close();
  rmSync(home, { recursive: true, force: true });
});

describe('health against a server with a huge version string', () => {
  it('stores and emits a bounded message, sweep after sweep (200 KB: read, then cut; 10 MB: refused as too large)', async () => {
    const config = parseConfig({ comfyui: { url: h.url, timeoutMs: 5_000 }, health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 10_000, probeRequests: 1 } });
    const emitted: CheckResult[] = [];
    const monitor = new HealthMonitor({
      checks: [comfyuiVersionCheck],
      deps: () => ({ config, paths, configFile: paths.configFile }),
      historyFile: historyFile(paths),
      onResult: (r) => emitted.push(r),
    });
    for (let i = 0; i < 3; i++) await monitor.sweep();
    h.set('/system_stats', { kind: 'huge-version', bytes: 10 * 1024 * 1024 });
    for (let i = 0; i < 2; i++) await monitor.sweep();
    expect(emitted).toHaveLength(5);
    for (const r of emitted.slice(0, 3)) {
      expect(r.status).toBe('ok');
      expect(r.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect(r.message).toMatch(/^ComfyUI v+…$/);
    }
    for (const r of emitted.slice(3)) expect(r).toMatchObject({ status: 'fail', message: expect.stringMatching(/larger than \d+ bytes/) });
    expect(statSync(historyFile(paths)).size).toBeLessThan(20_000);
    const status = await monitor.status();
    expect(JSON.stringify(status).length).toBeLessThan(20_000);
  });

  it('a history file bloated by an older version is cut down when loaded', async () => {
    const file = path.join(home, 'old-history.json');
    const huge = { id: 'comfyui-version', status: 'ok', latencyMs: 1, checkedAt: new Date().toISOString(), message: 'x'.repeat(5_000_000), fix: { text: 'y'.repeat(100_000) } };
    writeFileSync(file, JSON.stringify({ format: 'comfy-panel-health-history', version: 1, lastCheckAt: huge.checkedAt, checks: { 'comfyui-version': { recent: [huge], hours: [] } } }));
    const history = await HealthHistory.load(file);
    const last = history.last('comfyui-version')!;
    expect(last.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(last.fix!.text.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    await history.save();
    expect(statSync(file).size).toBeLessThan(10_000);
  });
});
