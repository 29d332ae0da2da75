import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePaths } from '../../app/config/instances.js';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { dispatch } from '../../app/service/dispatch.js';
import { FLEET_ROW_DEADLINE_MS } from '../../app/fleet/status.js';
import { createPanelRuntime, type PanelRuntime } from '../../app/service/runtime.js';
import { VAULT_FILE } from '../../app/tokens/vault.js';
import type { StateChange } from '../../app/health/notifier.js';
import { startDouble, type DoubleSetup } from '../comfy/support.js';

/** A port that was just free: nothing listens on it. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const home = mkdtempSync(path.join(os.tmpdir(), 'fleet-runtime-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
let a: DoubleSetup;
let b: DoubleSetup;
let runtime: PanelRuntime;

/** Three instances: two with a ComfyUI double each, one whose engine and ComfyUI are gone. */
function fleetConfig(down: number) {
  const instance = (id: string, url: string, port: number) => {
    const root = path.join(home, id);
    mkdirSync(root, { recursive: true });
    return { id, label: `GPU ${id}`, docker: { host: `unix://${home}/${id}-no.sock`, timeoutMs: 500 }, comfyui: { url, timeoutMs: 5_000 }, container: { name: `fleet-${id}`, hostPort: port }, env: { root } };
  };
  return {
    instances: [instance('a', a.comfy.url, 18001), instance('b', b.comfy.url, 18002), instance('c', `http://127.0.0.1:${down}`, 18003)],
  };
}

beforeAll(async () => {
  [a, b] = await Promise.all([startDouble(), startDouble()]);
  const config = parseConfig(fleetConfig(await closedPort()));
  writeFileSync(paths.configFile, JSON.stringify(config));
  for (const [id, d] of [['a', a], ['b', b]] as const) writeFileSync(path.join(home, id, '.env'), `COMFYUI_TOKEN='${d.hash}'\n`);
  runtime = createPanelRuntime({ mode: 'browser', loaded: { config, path: paths.configFile, configured: false }, paths });
});
afterAll(async () => {
  await runtime?.dispose();
  await Promise.all([a?.close(), b?.close()]);
  rmSync(home, { recursive: true, force: true });
});

describe('a panel with three instances', () => {
  it('lists them, routes each call to the instance it names, and keeps each credential in its own vault', async () => {
    expect((await runtime.handlers.appInfo({})).instances).toEqual([
      { id: 'a', label: 'GPU a' },
      { id: 'b', label: 'GPU b' },
      { id: 'c', label: 'GPU c' },
    ]);
    const seen: (string | undefined)[] = [];
    const off = runtime.bus.on('changed', (_p, instance) => seen.push(instance));
    await dispatch(runtime.handlers, 'tokenImport', { instance: 'b', from: 'env', file: '.env', key: 'COMFYUI_TOKEN' });
    off();
    // Only b's vault was written, under b's own data folder; the event says whose it is.
    const vaultOf = (id: string) => path.join(instancePaths(paths, id).dataDir, 'vault', VAULT_FILE);
    expect(existsSync(vaultOf('b'))).toBe(true);
    expect(existsSync(vaultOf('a'))).toBe(false);
    expect(existsSync(path.join(paths.dataDir, 'vault', VAULT_FILE))).toBe(false);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['b']));
    const audit = (await dispatch(runtime.handlers, 'tokenAudit', { instance: 'b' })) as { vault: { present: boolean }; live: { acceptsCurrent: boolean | null } };
    expect(audit.vault.present).toBe(true);
    expect(audit.live.acceptsCurrent).toBe(true);
    // No instance named: the first, which has no credential yet.
    expect(((await dispatch(runtime.handlers, 'tokenAudit', {})) as { vault: { present: boolean } }).vault.present).toBe(false);
  });

  it('refuses an instance the config does not have, naming the ones it has', async () => {
    await expect(dispatch(runtime.handlers, 'containerStatus', { instance: 'zz' })).rejects.toMatchObject({ shape: { code: 'invalid-input', message: expect.stringContaining('a, b, c') } });
    await expect(dispatch(runtime.handlers, 'containerStatus', { instance: 'Not An Id' })).rejects.toMatchObject({ shape: { code: 'invalid-input' } });
  });

  it('shows one row per instance; the one that does not answer has an error and does not hold up the others', async () => {
    await dispatch(runtime.handlers, 'tokenImport', { instance: 'a', from: 'env', file: '.env', key: 'COMFYUI_TOKEN' });
    const started = performance.now();
    const status = await runtime.handlers.fleetStatus({});
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(FLEET_ROW_DEADLINE_MS + 2_000);
    const [ra, rb, rc] = status.instances;
    expect(status.instances.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    for (const r of [ra!, rb!]) {
      // Their engines are gone (no Docker here), their ComfyUI answers: the row says exactly that.
      expect(r.error).toMatch(/^engine: /);
      expect(r.error).not.toMatch(/ComfyUI/);
      expect(r.queue).toEqual({ running: 0, pending: 0 });
      expect(r.gpu?.name).toBeTruthy();
      expect(Date.parse(r.tokenCreatedAt ?? '')).toBeGreaterThan(0);
    }
    expect(rc!.error).toMatch(/engine: .*; ComfyUI: /);
    expect(rc!.tokenCreatedAt).toBeNull();
    expect(rc!.engine).toBe(`unix://${home}/c-no.sock`);
  });

  it('follows a config saved with one more instance, which starts with its own data folder', async () => {
    const current = runtime.fleet.loaded.config;
    const d = { id: 'd', docker: { host: `unix://${home}/d-no.sock` }, comfyui: { url: a.comfy.url }, container: { name: 'fleet-d', hostPort: 18004 } };
    const reloaded: string[] = [];
    const off = runtime.bus.on('configReloaded', (_p, instance) => reloaded.push(instance ?? ''));
    await runtime.handlers.configSave({ config: { ...current, instances: [...(current.instances ?? []), d] } });
    off();
    // The panel's own save is no "reloaded from disk" news for the UI.
    expect(reloaded).toEqual([]);
    expect(runtime.fleet.ids()).toEqual(['a', 'b', 'c', 'd']);
    expect(runtime.fleet.member('d').ctx.paths.dataDir).toBe(path.join(paths.dataDir, 'instances', 'd'));
    expect(JSON.parse(readFileSync(paths.configFile, 'utf8')).instances).toHaveLength(4);
    // A collision is refused naming the field, and nothing changes.
    const clash = { ...d, id: 'e' };
    await expect(runtime.handlers.configSave({ config: { ...runtime.fleet.loaded.config, instances: [...(runtime.fleet.loaded.config.instances ?? []), clash] } })).rejects.toThrow(/instances\.4\.container\.name/);
    expect(runtime.fleet.ids()).toEqual(['a', 'b', 'c', 'd']);
  });

  it("a host's notifier (the desktop's) hears each change with the instance it happened on", async () => {
    const heard: StateChange[] = [];
    runtime.fleet.addNotifier({ notify: (change) => void heard.push(change) });
    await runtime.handlers.healthRun({}, 'a'); // the state a change starts from
    await a.close(); // a's ComfyUI goes away
    await runtime.handlers.healthRun({}, 'a');
    const ofA = heard.filter((c) => c.instance?.id === 'a');
    expect(ofA.length).toBeGreaterThan(0);
    expect(ofA[0]!.instance).toEqual({ id: 'a', label: 'GPU a' });
    expect(heard.filter((c) => c.instance === undefined)).toEqual([]);
  });
});
