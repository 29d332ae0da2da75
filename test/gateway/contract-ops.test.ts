/**
 * The Clients page's operations through the core runtime (what Electron IPC and browser mode
 * call), against a real gateway in front of the ComfyUI double: the raw key only in the create
 * and rotate answers, env lines for every dialect pointing at the gateway, revocation in force.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { dialects } from '../../app/contract/names.js';
import { startGateway, type Gateway } from '../../app/gateway/index.js';
import { createPanelRuntime, type PanelRuntime } from '../../app/service/runtime.js';
import { startComfyDouble, type ComfyDouble } from '../comfy-double/server.js';
import { freePort } from '../docker/helpers.js';
import { waitFor } from './rig.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'fd-contract-'));
const stateDir = path.join(home, 'gw-state');
const hash = bcrypt.hashSync('fd-contract', 4);
let comfy: ComfyDouble;
let gateway: Gateway;
let runtime: PanelRuntime;

beforeAll(async () => {
  const root = path.join(home, 'comfy');
  mkdirSync(path.join(root, 'login'), { recursive: true });
  writeFileSync(path.join(root, 'login', 'PASSWORD'), `${hash}\nadmin`);
  mkdirSync(stateDir, { recursive: true });
  const port = await freePort();
  comfy = await startComfyDouble({ dir: root });
  gateway = await startGateway({ upstream: comfy.url, stateDir, port, secretFile: path.join(root, 'login', 'PASSWORD'), log: () => undefined });
  const paths = panelPaths({ COMFY_PANEL_HOME: home });
  const config = parseConfig({ docker: { host: `unix://${home}/no.sock` }, comfyui: { url: 'http://127.0.0.1:9' }, gateway: { enabled: true, stateDir, hostPort: port } });
  runtime = createPanelRuntime({ mode: 'browser', loaded: { config, path: paths.configFile, configured: false }, paths });
});
afterAll(async () => {
  await runtime?.dispose();
  await gateway?.close();
  await comfy?.close();
  rmSync(home, { recursive: true, force: true });
});

const status = async (key: string) => (await fetch(`${gateway.url}/system_stats`, { headers: { Authorization: `Bearer ${key}` } })).status;

describe('client key operations', { timeout: 60_000 }, () => {
  it('create hands the key over once with env lines per dialect; list, rotate, revoke and usage never show it again', async () => {
    const h = runtime.handlers;
    const k = await h.clientKeyCreate({ name: 'page-key', scope: 'read', expiresIn: '30d', rateLimit: { requests: 100, perSeconds: 60 }, maxQueued: 2 });
    expect(k).toMatchObject({ name: 'page-key', scope: 'read', state: 'active', rateLimit: { requests: 100, perSeconds: 60 }, maxQueued: 2 });
    expect(Object.keys(k.envLines).sort()).toEqual([...dialects].sort());
    expect(k.envLines.dotenv).toEqual([`COMFYUI_URL=${gateway.url}`, `COMFYUI_BEARER_TOKEN=${k.key}`]);
    await waitFor('the key at the gateway', async () => ((await status(k.key)) === 200 ? true : undefined));

    const list = await h.clientKeys({});
    expect(list.keys.map((x) => x.name)).toContain('page-key');
    expect(JSON.stringify(list)).not.toContain(k.key);

    const r = await h.clientKeyRotate({ name: 'page-key', overlap: '1h' });
    expect(r.previous).toMatchObject({ id: k.id, state: 'overlap' });
    expect(r.envLines.dotenv[1]).toBe(`COMFYUI_BEARER_TOKEN=${r.key}`);
    await waitFor('the successor', async () => ((await status(r.key)) === 200 ? true : undefined));
    expect(await status(k.key)).toBe(200);

    const revoked = await h.clientKeyRevoke({ name: 'page-key' });
    expect(revoked.revoked.map((x) => x.id).sort()).toEqual([k.id, r.id].sort());
    await waitFor('both refused', async () => ((await status(k.key)) === 401 && (await status(r.key)) === 401 ? true : undefined));
    await expect(h.clientKeyCreate({ name: 'page-key', scope: 'read', expiresIn: 'soon' })).rejects.toThrow();

    const u = await waitFor('usage', async () => {
      const rows = (await h.clientUsage({})).keys.filter((x) => x.name === 'page-key');
      return rows.some((x) => x.requests > 0) ? rows : undefined;
    });
    expect(JSON.stringify(u)).not.toContain(k.key);
    // Nothing the panel logged holds a key.
    const logs = readdirSync(path.join(home, 'logs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(logs.length).toBeGreaterThan(0);
    for (const f of logs) {
      const text = readFileSync(path.join(f.parentPath, f.name), 'utf8');
      expect(text).not.toContain(k.key);
      expect(text).not.toContain(r.key);
    }
  });
});
