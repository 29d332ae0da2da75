import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRun, runsFile } from '../../app/comfy/runs.js';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { RunRecord } from '../../app/contract/ops/generate.js';
import { authAcceptsTokenCheck } from '../../app/health/checks/auth-accepts-token.js';
import { authRejectsAnonymousCheck } from '../../app/health/checks/auth-rejects-anonymous.js';
import { comfyuiVersionCheck } from '../../app/health/checks/comfyui-version.js';
import { generationCheck } from '../../app/health/checks/generation.js';
import { tokenConsistencyCheck } from '../../app/health/checks/token-consistency.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { fingerprint } from '../../app/redact.js';
import { openVault } from '../../app/tokens/vault.js';

/** The vault's token; the server below was given another one (a password pasted where the hash belongs). */
const TOKEN = `$2b$12$${'v'.repeat(53)}`;

/** An HTTP server whose answer to GET /system_stats each test sets. */
let reply: (req: http.IncomingMessage) => { status: number; body: string } = () => ({ status: 200, body: '{}' });
const server = http.createServer((req, res) => {
  const r = reply(req);
  res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(r.body);
});
const home = mkdtempSync(path.join(os.tmpdir(), 'health-srv-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
let ctx: () => SweepContext;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const config = parseConfig({ comfyui: { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, timeoutMs: 2_000 } });
  await openVault(config, paths).write({ current: { hash: TOKEN, username: 'comfy', createdAt: new Date().toISOString() } });
  ctx = () => new SweepContext({ config, paths, configFile: path.join(home, 'config.json') });
});
afterAll(() => {
  server.close();
  rmSync(home, { recursive: true, force: true });
});

const STATS = '{"system": {"comfyui_version": "0.3.64", "python_version": "3.12.3 (main)"}, "devices": [{"name": "cpu", "type": "cpu"}]}';

describe('checks that ask the ComfyUI server', () => {
  it('auth-accepts-token: a 401 for the vault token fails, saying the hash is the token, with the unify fix', async () => {
    reply = () => ({ status: 401, body: '{"error": "Authentication required."}' });
    const v = await authAcceptsTokenCheck.run(ctx());
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/bcrypt hash on line 1 of login\/PASSWORD \(not the password\)/);
    expect(v.fix).toMatchObject({ action: 'tokenUnify', input: { to: fingerprint(TOKEN) }, failure: 'token-rejected' });
    expect(JSON.stringify(v)).not.toContain(TOKEN);
  });

  it('auth-accepts-token and token-consistency: unknown without a vault credential, offering the import', async () => {
    const empty = new SweepContext({ config: ctx().config, paths: panelPaths({ COMFY_PANEL_HOME: path.join(home, 'empty') }), configFile: path.join(home, 'config.json') });
    for (const check of [authAcceptsTokenCheck, tokenConsistencyCheck]) {
      expect(await check.run(empty)).toMatchObject({ status: 'unknown', fix: { action: 'tokenImport', input: { from: 'container' } } });
    }
  });

  it('auth-accepts-token: ok when the server takes the bearer hash', async () => {
    reply = (req) => (req.headers.authorization === `Bearer ${TOKEN}` ? { status: 200, body: STATS } : { status: 401, body: '{}' });
    expect((await authAcceptsTokenCheck.run(ctx())).status).toBe('ok');
  });

  it('auth-rejects-anonymous: an open server fails; an odd status fails naming it', async () => {
    reply = () => ({ status: 200, body: STATS });
    expect(await authRejectsAnonymousCheck.run(ctx())).toMatchObject({ status: 'fail', fix: { failure: 'login-node-not-enforced' } });
    reply = () => ({ status: 500, body: '' });
    expect((await authRejectsAnonymousCheck.run(ctx())).message).toMatch(/got HTTP 500, expected 401/);
  });

  it('comfyui-version: reports the version; a server that is not ComfyUI fails', async () => {
    reply = () => ({ status: 200, body: STATS });
    expect(await comfyuiVersionCheck.run(ctx())).toMatchObject({ status: 'ok', message: 'ComfyUI 0.3.64, Python 3.12.3' });
    reply = () => ({ status: 200, body: '{"hello": "world"}' });
    expect(await comfyuiVersionCheck.run(ctx())).toMatchObject({ status: 'fail', fix: { failure: 'comfy-unreachable' } });
  });
});

describe('generation check', () => {
  const run = (over: Partial<RunRecord>): RunRecord => ({
    ok: true,
    runId: 'r',
    workflow: 'smoke',
    images: [],
    cached: false,
    timings: { queueMs: 1, executionMs: 2, downloadMs: 1, totalMs: 6, overheadMs: 2 },
    time: new Date().toISOString(),
    ...over,
  });

  it('follows the newest smoke run: failure classes from its error kind, qwen runs ignored', async () => {
    const file = runsFile(paths);
    reply = () => ({ status: 401, body: '{"error": "Authentication required."}' }); // the vault token is refused now too
    await appendRun(file, run({ ok: false, errorKind: 'unauthorized', error: 'GET /prompt: 401' }));
    const refused = await generationCheck.run(ctx());
    expect(refused).toMatchObject({ status: 'fail', fix: { failure: 'token-rejected', action: 'tokenUnify', input: { to: fingerprint(TOKEN) } } });
    await appendRun(file, run({ ok: false, errorKind: 'execution', error: 'KSampler failed\nTraceback...' }));
    expect(await generationCheck.run(ctx())).toMatchObject({ status: 'fail', message: expect.stringMatching(/failed: KSampler failed$/), fix: { action: 'generateRun', input: { workflow: 'smoke' } } });
    await appendRun(file, run({ ok: true }));
    await appendRun(file, run({ ok: false, workflow: 'qwen', errorKind: 'preflight' }));
    expect(await generationCheck.run(ctx())).toMatchObject({ status: 'ok', message: expect.stringMatching(/succeeded in 6 ms/) });
  });
});
