/**
 * `comfy-panel key create|list|revoke|rotate|usage` through the real CLI (runCli, the same
 * code bin/comfy-panel.mjs runs) on the configured deployment's gateway state folder, with a
 * real gateway (in-process) in front of the ComfyUI double: what the CLI writes is in force
 * at the gateway, a revocation closes that key's open WebSocket.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config/load.js';
import { configuredLocations } from '../../app/tokens/actions.js';
import { startGateway, type Gateway } from '../../app/gateway/index.js';
import { SMOKE_GRAPH } from '../comfy-double/graphs.js';
import { startComfyDouble, type ComfyDouble } from '../comfy-double/server.js';
import { cli as runCli, type CliRun } from '../support/cli-run.js';
import { waitFor } from './rig.js';

const printed: string[] = [];
/** Every CLI run's output is kept, to scan for secrets at the end. */
async function cli(args: string[]): Promise<CliRun> {
  const r = await runCli(args);
  printed.push(r.stdout, r.stderr);
  return r;
}

async function json<T>(args: string[]): Promise<T> {
  const r = await cli(['--json', ...args]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const home = mkdtempSync(path.join(os.tmpdir(), 'fd-cli-keys-'));
// No gateway.stateDir in the config: the deployment's default, <data folder>/gateway.
const stateDir = path.join(home, 'data', 'gateway');
const comfyRoot = path.join(home, 'comfy');
const hash = bcrypt.hashSync('fd-cli-keys', 4);
const gatewayLog: string[] = [];
const saved = process.env.COMFY_PANEL_HOME;
let comfy: ComfyDouble;
let gateway: Gateway;

beforeAll(async () => {
  process.env.COMFY_PANEL_HOME = home;
  writeFileSync(path.join(home, 'config.json'), JSON.stringify({ docker: { host: `unix://${home}/no.sock` }, comfyui: { url: 'http://127.0.0.1:9' }, gateway: { enabled: true }, env: { targets: [{ path: 'nb/.env', dialect: 'dotenv', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' }, clientKey: 'nb-env' }] } }));
  // A line the panel does not own stays as it is.
  mkdirSync(path.join(home, 'nb'), { recursive: true });
  writeFileSync(path.join(home, 'nb', '.env'), 'OTHER=kept\nCOMFYUI_BEARER_TOKEN=old\n');
  mkdirSync(path.join(comfyRoot, 'login'), { recursive: true });
  writeFileSync(path.join(comfyRoot, 'login', 'PASSWORD'), `${hash}\nadmin`);
  mkdirSync(stateDir, { recursive: true });
  comfy = await startComfyDouble({ dir: comfyRoot });
  gateway = await startGateway({ upstream: comfy.url, stateDir, secretFile: path.join(comfyRoot, 'login', 'PASSWORD'), log: (l) => gatewayLog.push(l) });
});
afterAll(async () => {
  await gateway?.close();
  await comfy?.close();
  if (saved === undefined) delete process.env.COMFY_PANEL_HOME;
  else process.env.COMFY_PANEL_HOME = saved;
  rmSync(home, { recursive: true, force: true });
});



const status = async (key: string, route = '/system_stats') => (await fetch(`${gateway.url}${route}`, { headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) })).status;
const until = (what: string, key: string, code: number) => waitFor(what, async () => ((await status(key)) === code ? true : undefined), 30_000);

interface Created {
  name: string;
  key: string;
  scope: string;
  expiresAt: string | null;
  id: string;
}
interface UsageRow {
  id: string;
  name: string;
  requests: number;
  prompts: number;
  executionSeconds: number;
  lastUsedAt: string | null;
}

describe('key commands on the configured deployment, against a real gateway', { timeout: 120_000 }, () => {
  it('key create --json has the stable fields; the key works at the gateway; list never shows it', async () => {
    const k = await json<Created>(['key', 'create', 'notebook-alice', '--scope', 'read', '--expires', '7d']);
    expect(k).toMatchObject({ name: 'notebook-alice', scope: 'read', key: expect.stringMatching(/^cpk_[A-Za-z0-9_-]{43}$/) as unknown });
    expect(Date.parse(k.expiresAt!) - Date.now()).toBeGreaterThan(6 * 86_400_000);
    expect(readdirSync(stateDir)).toContain('keys.json');
    expect(readFileSync(path.join(stateDir, 'keys.json'), 'utf8')).not.toContain(k.key);
    await until('the new key', k.key, 200);
    // read scope: no prompts.
    expect((await fetch(`${gateway.url}/prompt`, { method: 'POST', headers: { Authorization: `Bearer ${k.key}` }, body: '{}' })).status).toBe(403);

    const list = await json<{ keys: Record<string, unknown>[] }>(['key', 'list']);
    expect(list.keys.find((x) => x.name === 'notebook-alice')).toMatchObject({ scope: 'read', state: 'active', hint: k.key.slice(-4) });
    const text = JSON.stringify(list) + (await cli(['key', 'list'])).stdout;
    expect(text).not.toContain(k.key);
    expect(text).not.toContain('sha256:');

    // The human form shows the key (that is what create is for), once.
    const human = await cli(['key', 'create', 'script-bob', '--scope', 'generate', '--rate', '600/1m', '--max-queued', '2']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^cpk_[A-Za-z0-9_-]{43}\n/);
    expect(human.stdout).toContain('only time the key is shown');
  });

  it('bad input: a usage error names the option; a duplicate name is refused with a fix', async () => {
    const bad = await cli(['--json', 'key', 'create', 'x', '--scope', 'control']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('--scope');
    const dup = await cli(['--json', 'key', 'create', 'notebook-alice', '--scope', 'read']);
    expect(dup.code).toBe(1);
    expect(JSON.parse(dup.stdout)).toMatchObject({ error: { code: 'gateway-key-exists' } });
    const dur = await cli(['--json', 'key', 'rotate', 'notebook-alice', '--overlap', 'soon']);
    expect(JSON.parse(dur.stdout)).toMatchObject({ error: { code: 'invalid-duration', message: expect.stringContaining('--overlap') as unknown } });
  });

  it('key revoke: refused at the gateway within its reload, the open WebSocket of that key closed', async () => {
    const k = await json<Created>(['key', 'create', 'socket-carol', '--scope', 'generate']);
    await until('the new key', k.key, 200);
    const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws?clientId=carol&token=${k.key}`);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise<void>((ok, fail) => {
      ws.once('message', () => ok());
      ws.once('error', fail);
    });
    const r = await json<{ revoked: { name: string; state: string }[] }>(['key', 'revoke', 'socket-carol']);
    expect(r.revoked).toEqual([expect.objectContaining({ name: 'socket-carol', state: 'revoked' })]);
    expect(await closed).toBe(1008);
    expect(await status(k.key)).toBe(401);
    const again = await cli(['--json', 'key', 'revoke', 'socket-carol']);
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'gateway-key-missing' } });
  });

  it('key rotate --overlap: both keys work, the old one shows who still uses it; then key usage per key', async () => {
    const old = await json<Created>(['key', 'create', 'app-dave', '--scope', 'generate']);
    await until('the key', old.key, 200);
    const client = `fd-${process.pid}`;
    const sent = await fetch(`${gateway.url}/prompt`, { method: 'POST', headers: { Authorization: `Bearer ${old.key}` }, body: JSON.stringify({ prompt: SMOKE_GRAPH, client_id: client }) });
    expect(sent.status).toBe(200);
    // The usage log is flushed every 2 s: wait for the request lines, then rotate.
    await waitFor('usage of app-dave', async () => ((await json<{ keys: UsageRow[] }>(['key', 'usage'])).keys.find((u) => u.id === old.id && u.requests >= 2 && u.prompts === 1) ? true : undefined), 30_000);
    const r = await json<Created & { previous: { id: string; state: string; expiresAt: string; stillUsedBy: { address: string; lastUsedAt: string }[] } }>(['key', 'rotate', 'app-dave', '--overlap', '1h']);
    expect(r).toMatchObject({ name: 'app-dave', scope: 'generate', key: expect.stringMatching(/^cpk_/) as unknown });
    expect(r.key).not.toBe(old.key);
    expect(r.previous).toMatchObject({ id: old.id, state: 'overlap' });
    expect(Math.abs(Date.parse(r.previous.expiresAt) - (Date.now() + 3_600_000))).toBeLessThan(120_000);
    expect(r.previous.stillUsedBy.map((a) => a.address)).toContain('127.0.0.1');
    await until('the successor', r.key, 200);
    expect(await status(old.key)).toBe(200);

    // The prompt's execution time comes from ComfyUI's history once it finished.
    const u = await waitFor('the execution seconds', async () => {
      const row = (await json<{ keys: UsageRow[] }>(['key', 'usage'])).keys.find((x) => x.id === old.id);
      return row && row.executionSeconds > 0 ? row : undefined;
    }, 30_000);
    expect(u).toMatchObject({ name: 'app-dave', prompts: 1 });
    expect(u.requests).toBeGreaterThanOrEqual(2);
    expect(Date.parse(u.lastUsedAt!)).toBeGreaterThan(Date.now() - 120_000);
    const all = await json<{ keys: UsageRow[] }>(['key', 'usage']);
    // Every key has a row, the never-used successor too (zeros).
    expect(all.keys.find((x) => x.name === 'app-dave' && x.id !== old.id)).toMatchObject({ requests: expect.any(Number) as unknown, prompts: 0 });
    expect(Object.keys(all.keys[0]!)).toEqual(expect.arrayContaining(['name', 'requests', 'prompts', 'executionSeconds', 'lastUsedAt']));
  });

  it('an env target with clientKey gets that key (and the gateway URL) when it is issued; credential rotations leave it alone', async () => {
    const file = path.join(home, 'nb', '.env');
    const k = await json<Created & { envFiles: string[] }>(['key', 'create', 'nb-env', '--scope', 'generate']);
    expect(k.envFiles).toEqual([file]);
    expect(readFileSync(file, 'utf8')).toBe(`OTHER=kept\nCOMFYUI_BEARER_TOKEN=${k.key}\nCOMFYUI_URL=http://127.0.0.1:8189\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const r = await json<Created & { envFiles: string[] }>(['key', 'rotate', 'nb-env', '--overlap', '10m']);
    expect(r.envFiles).toEqual([file]);
    expect(readFileSync(file, 'utf8')).toContain(`COMFYUI_BEARER_TOKEN=${r.key}\n`);
    await until('the rotated key from the env file', r.key, 200);
    // Not a copy of the ComfyUI-Login credential any more: token rotations and audits skip it.
    const { config } = await loadConfig(path.join(home, 'config.json'), true);
    const locations = configuredLocations(config, { container: {} as never, envRoot: home });
    expect(locations.map((l) => l.name)).not.toContain('env:nb/.env');
    expect(configuredLocations({ ...config, gateway: { ...config.gateway, enabled: false } }, { container: {} as never, envRoot: home }).map((l) => l.name)).toContain('env:nb/.env');
  });

  it('no raw key and no upstream hash in the gateway log or in anything the CLI printed but the create/rotate answers', async () => {
    const keys = printed.join('\n').match(/cpk_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(keys.length).toBeGreaterThan(0);
    const log = gatewayLog.join('\n');
    for (const k of keys) expect(log).not.toContain(k);
    expect(log).not.toContain(hash);
    expect(printed.join('\n')).not.toContain(hash);
  });
});
