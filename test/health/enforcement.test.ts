import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeEnforcement, probeUserdataExposure } from '../../app/comfy/enforcement.js';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { CheckResult } from '../../app/contract/ops/health.js';
import { authAcceptsTokenCheck } from '../../app/health/checks/auth-accepts-token.js';
import { authRejectsAnonymousCheck } from '../../app/health/checks/auth-rejects-anonymous.js';
import { userdataExposureCheck } from '../../app/health/checks/userdata-exposure.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { openVault } from '../../app/tokens/vault.js';
import { startDouble, type DoubleMode, type Started } from '../double/helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The double in a mode, and a sweep context whose vault holds `token` (default: the double's own hash). */
async function setup(mode: DoubleMode, token?: string): Promise<{ s: Started; ctx: () => SweepContext }> {
  const s = await startDouble(mode);
  cleanup.push(() => s.stop());
  const home = mkdtempSync(path.join(os.tmpdir(), 'truth-enf-'));
  cleanup.push(() => rmSync(home, { recursive: true, force: true }));
  const paths = panelPaths({ COMFY_PANEL_HOME: home });
  const config = parseConfig({ comfyui: { url: s.comfy.url, timeoutMs: 5_000 } });
  const hash = token ?? s.hash;
  if (hash) await openVault(config, paths).write({ current: { hash, username: 'admin', createdAt: new Date().toISOString() } });
  // The sweep would take the container checks' word that the container runs; these checks only ask the server.
  const ctx = () => {
    const c = new SweepContext({ config, paths, configFile: path.join(home, 'config.json') });
    c.containerUnavailable = () => Promise.resolve(undefined);
    c.containerStatus = () => Promise.reject(new Error('no container in this test'));
    return c;
  };
  return { s, ctx };
}

type Verdicts = Record<string, Pick<CheckResult, 'status' | 'message'> & { failure?: string }>;
async function verdicts(ctx: SweepContext): Promise<Verdicts> {
  const out: Verdicts = {};
  for (const check of [authRejectsAnonymousCheck, authAcceptsTokenCheck, userdataExposureCheck]) {
    const v = await check.run(ctx);
    out[check.id] = { status: v.status, message: v.message, ...(v.fix?.failure ? { failure: v.fix.failure } : {}) };
  }
  return out;
}

describe('"enforced" means enforced: each false green of the real ComfyUI-Login, reproduced with the double', () => {
  it('a good node: enforced, the token is accepted, and the user-data suffix allowlist is a warning', async () => {
    const { s, ctx } = await setup({});
    expect(await probeEnforcement(s.comfy.url, { token: s.hash, timeoutMs: 5_000 })).toMatchObject({ value: true });
    const v = await verdicts(ctx());
    expect(v['auth-rejects-anonymous']).toMatchObject({ status: 'ok', message: expect.stringMatching(/empty \?token=/) });
    expect(v['auth-accepts-token']?.status).toBe('ok');
    expect(v['userdata-exposure']).toMatchObject({ status: 'warn', failure: 'userdata-exposed', message: expect.stringMatching(/\*\.js and \*\.css files pass ComfyUI-Login/) });
  });

  it('no PASSWORD: anonymous gets 401 but an empty ?token= gets 200, so the first visitor sets the password', async () => {
    const { s, ctx } = await setup({ password: null }, `$2b$12$${'v'.repeat(53)}`);
    const e = await probeEnforcement(s.comfy.url, { timeoutMs: 5_000 });
    expect(e).toMatchObject({ value: false, problem: 'no-password', detail: expect.stringMatching(/^no password is set: the first visitor to \/login chooses it/) });
    const v = await verdicts(ctx());
    expect(v['auth-rejects-anonymous']).toMatchObject({ status: 'fail', failure: 'login-node-no-password' });
    expect(v['userdata-exposure']?.status).toBe('unknown'); // the red belongs to the auth check
    // Nothing was set by probing: the password is still free (the probe never posts /login).
    expect(existsSync(path.join(s.root, 'login', 'PASSWORD'))).toBe(false);
  });

  it('a node from before token support (7ef55034): a valid Bearer gets 302 to /login', async () => {
    const { s, ctx } = await setup({ loginNodeVersion: 'pre-token', passwordAt: 'root' });
    const e = await probeEnforcement(s.comfy.url, { token: s.hash, timeoutMs: 5_000 });
    expect(e).toMatchObject({ value: false, problem: 'no-token-support', detail: expect.stringMatching(/^this ComfyUI-Login version has no token support: it answers tokens with a redirect to \/login/) });
    // Without the token too: anonymous API calls get the same redirect.
    expect(await probeEnforcement(s.comfy.url, { timeoutMs: 5_000 })).toMatchObject({ value: false, problem: 'no-token-support' });
    const v = await verdicts(ctx());
    expect(v['auth-rejects-anonymous']).toMatchObject({ status: 'fail', failure: 'login-node-no-token-support' });
    expect(v['auth-accepts-token']).toMatchObject({ status: 'fail', failure: 'login-node-no-token-support' });
  });

  it('the node failed to import: anonymous requests get 200', async () => {
    const { s, ctx } = await setup({ loginImportFailed: true });
    expect(await probeEnforcement(s.comfy.url, { token: s.hash, timeoutMs: 5_000 })).toMatchObject({ value: false, problem: 'open' });
    const v = await verdicts(ctx());
    expect(v['auth-rejects-anonymous']).toMatchObject({ status: 'fail', failure: 'login-node-not-enforced' });
    expect(v['userdata-exposure']?.status).toBe('unknown');
  });

  it('--enable-cors-header with a specific origin: a script\'s valid token gets 401; the token check says why', async () => {
    const { s, ctx } = await setup({ corsOrigin: 'https://lab.example.org' });
    const e = await probeEnforcement(s.comfy.url, { token: s.hash, timeoutMs: 5_000 });
    expect(e).toMatchObject({ value: false, problem: 'cors-origin', detail: expect.stringMatching(/--enable-cors-header https:\/\/lab\.example\.org.*the vault token got 401/) });
    const v = await verdicts(ctx());
    expect(v['auth-rejects-anonymous']).toMatchObject({ status: 'fail', failure: 'login-node-cors-origin' });
    expect(v['auth-accepts-token']).toMatchObject({ status: 'fail', failure: 'login-node-cors-origin' });
    // The bare flag (or *) leaves tokens working as documented.
    await s.restart({ corsOrigin: '*' });
    expect(await probeEnforcement(s.comfy.url, { token: s.hash, timeoutMs: 5_000 })).toMatchObject({ value: true });
  });

  it('the exposure probe leaves no file behind and sees a closed allowlist as ok', async () => {
    const { s } = await setup({});
    const userDir = path.join(s.root, 'user', 'default');
    const before = existsSync(userDir) ? readdirSync(userDir) : [];
    expect(await probeUserdataExposure(s.comfy.url, 5_000)).toMatchObject({ exposed: true });
    expect(existsSync(userDir) ? readdirSync(userDir) : []).toEqual(before);
    // A server that guards every path (e.g. a front door in front of ComfyUI-Login) answers 401.
    const guard = http.createServer((_req, res) => res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error": "Authentication required."}'));
    await new Promise<void>((r) => guard.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => guard.close(() => r())));
    expect(await probeUserdataExposure(`http://127.0.0.1:${(guard.address() as AddressInfo).port}`, 5_000)).toMatchObject({ exposed: false });
  });
});
