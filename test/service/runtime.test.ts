import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { LoginNodeRuns } from '../../app/docker/login-node.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { createPanelRuntime } from '../../app/service/runtime.js';
import { fileKeyStore } from '../../app/tokens/keystore.js';
import { KEY_FILE, Vault, vaultDir, type VaultKeys } from '../../app/tokens/vault.js';

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

describe('the runtime holds the core\'s state, not module globals', () => {
  it('two runtimes share no bus, health monitor or ComfyUI-Login memory', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'runtime-two-'));
    const paths = panelPaths({ COMFY_PANEL_HOME: home });
    const loaded = { config: parseConfig({ docker: { host: `unix://${home}/no.sock` } }), path: paths.configFile, configured: false };
    const [a, b] = [createPanelRuntime({ mode: 'browser', loaded, paths }), createPanelRuntime({ mode: 'browser', loaded, paths })];
    expect(a.ctx.health).not.toBe(b.ctx.health);
    expect(a.ctx.containerMemory).not.toBe(b.ctx.containerMemory);
    expect(a.ctx.bus).not.toBe(b.ctx.bus);
    const seen: string[] = [];
    b.ctx.bus.on('health', (r) => seen.push(r.id));
    a.ctx.bus.emit('health', { id: 'docker' } as never);
    expect(seen).toEqual([]);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('the ComfyUI-Login memory keeps one run per container: a restart makes it read the logs again', () => {
    const runs = new LoginNodeRuns();
    const fact = { value: true, detail: 'token line' };
    runs.remember('c1', 'c1@t1', fact);
    runs.remember('c2', 'c2@t1', fact);
    expect(runs.get('c1@t1')).toBe(fact);
    runs.remember('c1', 'c1@t2', fact);
    expect([runs.get('c1@t1'), runs.get('c1@t2'), runs.get('c2@t1')]).toEqual([undefined, fact, fact]);
  });

  it("every vault read of the service and the health sweep goes through the runtime's key store", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'runtime-keys-'));
    const paths = panelPaths({ COMFY_PANEL_HOME: home });
    const config = parseConfig({ docker: { host: `unix://${home}/no.sock` }, comfyui: { url: 'http://127.0.0.1:9' }, env: { root: home, targets: [{ path: '.env', dialect: 'dotenv', keys: { COMFYUI_TOKEN: 'token' } }] } });
    // A key kept elsewhere than the default key file: reading with the default would find no key.
    const asked: string[] = [];
    const vaultKeys: VaultKeys = (dir) => (asked.push(dir), fileKeyStore(path.join(dir, 'elsewhere.key')));
    const dir = vaultDir(config, paths);
    const hash = '$2b$12$' + 'k'.repeat(53);
    await new Vault(dir, vaultKeys(dir)).write({ current: { hash, username: 'comfy', createdAt: new Date().toISOString() } });
    asked.length = 0;

    const runtime = createPanelRuntime({ mode: 'browser', loaded: { config, path: paths.configFile, configured: false }, paths, vaultKeys });
    expect((await runtime.handlers.tokenClientEnv({ dialect: 'dotenv' })).lines.join('\n')).toContain(hash);
    expect(JSON.stringify(await runtime.handlers.envSyncPreview({}))).not.toMatch(/no credential|vault key is missing/i);
    const probe = await runtime.handlers.healthProbe({ requests: 1 });
    expect(probe.requests).toBe(1); // it had a token to probe with: the vault was read
    expect((await new SweepContext({ config, paths, configFile: paths.configFile, vaultKeys }).credential())?.hash).toBe(hash);
    await runtime.dispose();
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(new Set(asked)).toEqual(new Set([dir]));
    expect(existsSync(path.join(dir, KEY_FILE))).toBe(false);
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
