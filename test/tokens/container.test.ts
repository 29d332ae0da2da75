import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import { probeAuth } from '../../app/comfy/client.js';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { RotationStep } from '../../app/contract/ops/tokens.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { readEnvValues } from '../../app/env/index.js';
import { fingerprint } from '../../app/redact.js';
import { createPanelContext } from '../../app/service/context.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { containerServer, tokenActions } from '../../app/tokens/actions.js';
import { AUDIT_LOG } from '../../app/tokens/audit-log.js';
import { createCredential, passwordFileContent, type Credential } from '../../app/tokens/credential.js';
import { freePort, removeContainers, testConfig, uniqueName } from '../docker/helpers.js';
import { requireDocker } from '../support/docker.js';
import { ensureDoubleImage } from '../support/double-image.js';
import { treeContents, useFastBcrypt } from './support.js';

useFastBcrypt();
const d = await requireDocker();

/** Runs the real CLI in-process, capturing what it prints. */
async function cli(config: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  try {
    const code = await runCli(['--config', config, ...args]);
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

const COMPOSE_KEYS = { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' } as const;
const NOTEBOOK_KEYS = { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_PASSWORD: 'password', COMFYUI_USER: 'username' } as const;

/** A panel home with config + vault + project folder, and a container of the double running on it. */
async function deployment(area: string, opts: { secretFile: boolean }) {
  const docker = d.ok ? d.docker : (undefined as never);
  const home = await fs.mkdtemp(path.join(os.tmpdir(), `${area}-`));
  const name = uniqueName(area);
  const initial = await createCredential('qwen');
  const secretFile = path.join(home, 'secrets', 'qwen-api-user.token');
  await fs.mkdir(path.dirname(secretFile), { recursive: true });
  await fs.writeFile(secretFile, passwordFileContent(initial), { mode: 0o600 });
  const base = testConfig({ name, image: await ensureDoubleImage(docker), hostPort: await freePort(), secretFile });
  const config: PanelConfig = parseConfig({
    ...base,
    container: { ...base.container, ...(opts.secretFile ? {} : { secretFile: undefined }) },
    vault: { dir: path.join(home, 'vault') },
    env: {
      root: path.join(home, 'project'),
      targets: [
        { path: '.env', dialect: 'compose', keys: COMPOSE_KEYS },
        { path: 'notebooks/.env', dialect: 'dotenv', keys: NOTEBOOK_KEYS },
      ],
    },
  });
  const configFile = path.join(home, 'config.json');
  await fs.writeFile(configFile, JSON.stringify(config));
  const manager = new ContainerManager(config, docker);
  try {
    await manager.create();
    // No secret mount: PASSWORD lives only in the container, put there through the engine before
    // the first start (the recipe's entrypoint refuses to start without one when auth is required).
    if (!opts.secretFile) await manager.writeFile(`${config.container.comfyRoot}/login/PASSWORD`, passwordFileContent(initial));
    await manager.start();
    await manager.waitFor('healthy', 30_000);
  } catch (e) {
    await removeContainers(docker, [name]); // a set-up that failed must not leave its container behind
    throw e;
  }
  return { docker, home, name, initial, secretFile, config, configFile, manager };
}

// Each rotation restarts a real container (twice when it rolls back): minutes on a loaded engine.
describe.skipIf(!d.ok)('token commands against the ComfyUI double container', { timeout: 240_000 }, () => {
  let dep: Awaited<ReturnType<typeof deployment>>;
  const printed: string[] = [];
  const secrets: string[] = [];
  const run = async (...args: string[]) => {
    const r = await cli(dep.configFile, ...args);
    printed.push(r.stdout, r.stderr);
    return r;
  };
  const previousHome = process.env.COMFY_PANEL_HOME;

  beforeAll(async () => {
    dep = await deployment('tokens-cli', { secretFile: true });
    process.env.COMFY_PANEL_HOME = dep.home;
    secrets.push(dep.initial.hash, dep.initial.password!);
  });
  afterAll(async () => {
    if (previousHome === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = previousHome;
    if (dep) {
      await removeContainers(dep.docker, [dep.name]);
      await fs.rm(dep.home, { recursive: true, force: true });
    }
  });

  const vaultState = () => tokenActions(dep.config, panelPaths(), { actor: 'test' }).vault.read();
  const readTargets = async () => ({
    compose: readEnvValues(await fs.readFile(path.join(dep.home, 'project', '.env'), 'utf8'), 'compose', { lookup: () => undefined }),
    notebook: dotenv.parse(await fs.readFile(path.join(dep.home, 'project', 'notebooks', '.env'), 'utf8')),
  });

  it('audit before anything: no vault credential, exit 1', async () => {
    const r = await run('--json', 'token', 'audit');
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ consistent: false, vault: { present: false }, live: { acceptsCurrent: null } });
  });

  it('adopts the running token from the container, then the audit shows the env files missing', async () => {
    const imported = await run('--json', 'token', 'import', '--from-container');
    expect(imported.code).toBe(0);
    expect(imported.json()).toMatchObject({ fingerprint: fingerprint(dep.initial.hash), username: 'qwen' });
    const audit = await run('--json', 'token', 'audit');
    expect(audit.code).toBe(1);
    const a = audit.json();
    expect(a.locations.map((l: { name: string; status: string }) => `${l.name}=${l.status}`)).toEqual([
      'container=match',
      'secret-file=match',
      'env:.env=missing',
      'env:notebooks/.env=missing',
    ]);
    expect(a.live).toEqual({ acceptsCurrent: true, rejectsAnonymous: true, rejectsPrevious: null });
  });

  it('unify writes the adopted token everywhere through the verified path; the audit is then consistent', async () => {
    const r = await run('--json', 'token', 'unify', '--to', fingerprint(dep.initial.hash));
    expect(r.json()).toMatchObject({ ok: true, outcome: 'committed', kind: 'unify' });
    const audit = await run('--json', 'token', 'audit');
    expect(audit.code).toBe(0);
    expect(audit.json().consistent).toBe(true);
    expect((await readTargets()).compose.COMFYUI_BEARER_TOKEN).toBe(dep.initial.hash);
  });

  it('rotate: new token accepted, old rejected, every target reads back the exact hash under its reader', async () => {
    const r = await run('--json', 'token', 'rotate');
    expect(r.code).toBe(0);
    const res = r.json();
    expect(res).toMatchObject({ ok: true, outcome: 'committed', previousFingerprint: fingerprint(dep.initial.hash) });
    expect(res.steps.map((s: { name: string }) => s.name)).toEqual(['generate', 'backup', 'stage', 'write', 'restart', 'wait-healthy', 'verify', 'recheck', 'commit', 'prune-backups']);
    const state = (await vaultState())!;
    secrets.push(state.current.hash, state.current.password!);
    expect(fingerprint(state.current.hash)).toBe(res.fingerprint);
    expect(state.current.hash).toMatch(/^\$2b\$04\$/);
    const url = dep.config.comfyui.url;
    expect((await probeAuth(url, state.current.hash, 3000)).status).toBe(200);
    expect((await probeAuth(url, dep.initial.hash, 3000)).status).toBe(401);
    expect((await probeAuth(url, undefined, 3000)).status).toBe(401);
    const targets = await readTargets();
    expect(targets.compose).toEqual({ COMFYUI_BEARER_TOKEN: state.current.hash, COMFYUI_URL: url });
    expect(targets.notebook).toEqual({ COMFYUI_BEARER_TOKEN: state.current.hash, COMFYUI_PASSWORD: state.current.password, COMFYUI_USER: 'qwen' }); // the imported username is kept
    expect((await dep.manager.readFile('/workspace/ComfyUI/login/PASSWORD')).toString()).toBe(passwordFileContent(state.current));
    expect((await fs.stat(dep.secretFile)).mode & 0o777).toBe(0o600);
  });

  it('a failed restart or verification against the real container rolls back to the working token', async () => {
    const before = (await vaultState())!.current;
    const files = await treeContents(path.join(dep.home, 'project'));
    const real = containerServer(dep.config, dep.manager);
    let failRestart = true;
    let failVerify = false;
    const flaky = {
      ...real,
      restart: async () => {
        if (failRestart) {
          failRestart = false;
          throw new Error('injected: restart refused');
        }
        await real.restart();
      },
      probe: async (t: string | undefined) => {
        if (failVerify && t !== undefined && t !== before.hash) return { status: 500, latencyMs: 0, error: 'injected' };
        return real.probe(t);
      },
    };
    const actions = tokenActions(dep.config, panelPaths(), { actor: 'cli:test', server: flaky, configFile: dep.configFile });
    const first = await actions.rotate();
    expect(first).toMatchObject({ ok: false, outcome: 'rolled-back', failedStep: 'restart' });
    failVerify = true;
    const second = await actions.rotate();
    expect(second, JSON.stringify(second.steps)).toMatchObject({ ok: false, outcome: 'rolled-back', failedStep: 'verify' });
    expect(second.steps.map((s) => s.name)).toContain('rollback-verify');
    expect((await vaultState())!.current).toEqual(before);
    expect(await treeContents(path.join(dep.home, 'project'))).toEqual(files);
    expect((await probeAuth(dep.config.comfyui.url, before.hash, 3000)).status).toBe(200);
    expect((await run('--json', 'token', 'audit')).json().consistent).toBe(true);
  });

  it('a rotation left unsettled is settled when the panel service starts, with rotationStep events', async () => {
    const before = (await vaultState())!.current;
    const real = containerServer(dep.config, dep.manager);
    let restarts = 0;
    // verification fails, then the rollback's restart fails too: the journal stays behind
    const broken = {
      ...real,
      restart: async () => {
        if (++restarts === 2) throw new Error('injected: engine gone');
        await real.restart();
      },
      probe: async (t: string | undefined) => (t !== undefined && t !== before.hash ? { status: 500, latencyMs: 0, error: 'injected' } : real.probe(t)),
    };
    const res = await tokenActions(dep.config, panelPaths(), { actor: 'cli:test', server: broken, configFile: dep.configFile }).rotate();
    expect(res.outcome).toBe('rollback-failed');
    expect((await run('--json', 'token', 'audit')).json().pendingRotation).toMatchObject({ rotationId: res.rotationId, step: 'rolling-back' });

    const ctx = createPanelContext({ loaded: { config: dep.config, path: dep.configFile, configured: true }, paths: panelPaths(), mode: 'browser', version: 'test' });
    const events: RotationStep[] = [];
    const settled = new Promise<void>((resolve) =>
      ctx.bus.on('rotationStep', (e) => {
        events.push(e);
        if (e.step === 'rollback-verify' && e.status !== 'started') resolve();
      }),
    );
    const handlers = createPanelHandlers(ctx);
    await settled;
    expect(events.filter((e) => e.status !== 'started').map((e) => `${e.step}:${e.status}`)).toEqual([
      'rollback-restore:ok',
      'rollback-restart:ok',
      'rollback-wait-healthy:ok',
      'rollback-verify:ok',
    ]);
    await vi.waitFor(async () => expect((await handlers.tokenAudit({})).pendingRotation).toBeUndefined(), { timeout: 60_000, interval: 250 });
    const audit = await handlers.tokenAudit({});
    expect(audit).toMatchObject({ consistent: true, vault: { fingerprint: fingerprint(before.hash) } });
  });

  it('client-env prints the token only on request, quoted for the chosen reader', async () => {
    const { hash } = (await vaultState())!.current;
    const compose = await cli(dep.configFile, 'token', 'client-env', '--dialect', 'compose');
    expect(compose.stdout).toContain(`COMFYUI_BEARER_TOKEN='${hash}'`);
    expect(readEnvValues(compose.stdout, 'compose', { lookup: () => undefined }).COMFYUI_BEARER_TOKEN).toBe(hash);
    const raw = await cli(dep.configFile, '--json', 'token', 'client-env', '--dialect', 'raw');
    expect(raw.json()).toEqual({ lines: [`COMFYUI_URL=${dep.config.comfyui.url}`, `COMFYUI_BEARER_TOKEN=${hash}`] });
    const dot = await cli(dep.configFile, 'token', 'client-env');
    expect(dotenv.parse(dot.stdout).COMFYUI_BEARER_TOKEN).toBe(hash);
  });

  it('no other output, the audit log or the vault folder holds a secret in clear', async () => {
    const human = await run('token', 'audit');
    expect(human.stdout).toContain('the hash is a secret too');
    const logLines = (await fs.readFile(path.join(dep.config.vault.dir!, AUDIT_LOG), 'utf8')).trim().split('\n');
    expect(logLines.length).toBeGreaterThanOrEqual(4);
    const haystack = [...printed, ...Object.values(await treeContents(dep.config.vault.dir!))].join('\n');
    expect(secrets.length).toBe(4);
    for (const s of secrets) expect(haystack).not.toContain(s);
  });
});

describe.skipIf(!d.ok)('rotation writing login/PASSWORD through the engine (no secret file)', { timeout: 240_000 }, () => {
  let dep: Awaited<ReturnType<typeof deployment>>;
  beforeAll(async () => {
    dep = await deployment('tokens-archive', { secretFile: false });
  });
  afterAll(async () => {
    if (dep) {
      await removeContainers(dep.docker, [dep.name]);
      await fs.rm(dep.home, { recursive: true, force: true });
    }
  });

  it('init then rotate: PASSWORD inside the container carries each new hash and the server takes only it', async () => {
    const actions = tokenActions(dep.config, panelPaths({ COMFY_PANEL_HOME: dep.home }), { actor: 'cli:test', configFile: dep.configFile });
    const init = await actions.init();
    expect(init).toMatchObject({ ok: true, outcome: 'committed', kind: 'init' });
    expect(init.previousFingerprint).toBeUndefined();
    const first: Credential = (await actions.vault.read())!.current;
    expect((await probeAuth(dep.config.comfyui.url, dep.initial.hash, 3000)).status).toBe(401);
    await expect(actions.init()).rejects.toThrow(/already holds a credential/);
    const res = await actions.rotate();
    expect(res).toMatchObject({ ok: true, outcome: 'committed', previousFingerprint: fingerprint(first.hash) });
    const current: Credential = (await actions.vault.read())!.current;
    expect((await dep.manager.readFile('/workspace/ComfyUI/login/PASSWORD')).toString()).toBe(passwordFileContent(current));
    expect((await probeAuth(dep.config.comfyui.url, current.hash, 3000)).status).toBe(200);
    expect((await probeAuth(dep.config.comfyui.url, first.hash, 3000)).status).toBe(401);
    expect((await actions.audit()).locations.map((l) => l.status)).toEqual(['match', 'match', 'match']);
  });
});
