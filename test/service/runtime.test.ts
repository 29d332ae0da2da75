import { mkdtemp } from 'node:fs/promises';
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
