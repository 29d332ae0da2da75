import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { createPanelRuntime } from '../../app/service/runtime.js';

describe('the core runtime', () => {
  it('starts the health monitor for a configured panel and stops all background work on dispose', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'runtime-'));
    const paths = panelPaths({ COMFY_PANEL_HOME: home });
    // An engine nobody answers on: the sweep fails fast and touches nothing real.
    const config = parseConfig({ docker: { host: `unix://${home}/no.sock` }, comfyui: { url: 'http://127.0.0.1:9' } });
    const runtime = createPanelRuntime({ mode: 'browser', loaded: { config, path: paths.configFile, configured: true }, paths });
    expect((await runtime.handlers.healthStatus({})).monitoring).toBe(true);
    expect(runtime.ctx.disposers.length).toBeGreaterThanOrEqual(2);
    await runtime.dispose();
    expect((await runtime.handlers.healthStatus({})).monitoring).toBe(false);
    expect(runtime.ctx.disposers).toHaveLength(0);
  });
});

describe('the panel log', () => {
  it('records each operation with its outcome and time, never its input, in a 0600 file', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'runtime-log-'));
    const paths = panelPaths({ COMFY_PANEL_HOME: home });
    const config = parseConfig({ docker: { host: `unix://${home}/no.sock` } });
    const runtime = createPanelRuntime({ mode: 'browser', loaded: { config, path: paths.configFile, configured: false }, paths });
    await runtime.handlers.appInfo({});
    const secretLooking = '$2b$12$abcdefghijklmnopqrstuuVWXYZabcdefghijklmnopqrstuvwxyz01';
    await expect(runtime.handlers.configSave({ config: { container: { hostPort: -1, name: secretLooking } } })).rejects.toThrow(/container/);
    await runtime.dispose();
    const file = path.join(paths.logDir, 'panel.log');
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/comfy-panel \S+ started \(browser\)/);
    expect(text).toMatch(/appInfo ok \d+ms/);
    expect(text).toMatch(/configSave failed \d+ms config: /);
    expect(text).not.toContain(secretLooking);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
