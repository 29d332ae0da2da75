/**
 * Adoption end to end on the private engine: a deployment made as compose makes it, adopted
 * from an empty config with `comfy-panel setup --adopt`, then a rotation commits, every env
 * target read back by its own reader holds the new token and the audit is consistent.
 */
import { promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import { probeAuth } from '../../app/comfy/client.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { AdoptionPlan } from '../../app/contract/ops/health.js';
import type { TokenAudit } from '../../app/contract/ops/tokens.js';
import { readEnvValues } from '../../app/env/index.js';
import { fingerprint } from '../../app/redact.js';
import { parsePasswordFile } from '../../app/tokens/credential.js';
import { freePort } from '../docker/helpers.js';
import { composeDeployment, type ComposeDeployment } from '../support/compose-deployment.js';
import { requireDocker } from '../support/docker.js';
import { DOUBLE_IMAGE_UID } from '../support/double-image.js';
import { useFastBcrypt } from '../tokens/support.js';

useFastBcrypt();
const d = await requireDocker();
const run = Math.random().toString(36).slice(2, 8);

/** The real CLI in-process with COMFY_PANEL_HOME=home, capturing what it prints. */
async function cli(home: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  const before = process.env.COMFY_PANEL_HOME;
  process.env.COMFY_PANEL_HOME = home;
  try {
    const code = await runCli(args);
    return { code, stdout, stderr, json: <T = Record<string, unknown>>() => JSON.parse(stdout) as T };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
    if (before === undefined) delete process.env.COMFY_PANEL_HOME;
    else process.env.COMFY_PANEL_HOME = before;
  }
}

async function waitHealthy(url: string, token: string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await probeAuth(url, token, 3000);
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} never accepted the token (last ${r.status ?? r.error})`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** Each file as its own reader reads it: compose (our compose reader), npm dotenv, and raw (KEY=rest of line). */
async function readBack(dir: string) {
  const text = (f: string) => fs.readFile(path.join(dir, f), 'utf8');
  const raw = Object.fromEntries((await text('client.env')).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return {
    compose: readEnvValues(await text('.env'), 'compose', { lookup: () => undefined }),
    raw,
    dotenv: dotenv.parse(await text('notebooks/.env')),
  };
}

describe.skipIf(!d.ok)('setup --adopt a compose deployment, then rotate', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  let home: string;
  let dep: ComposeDeployment;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), `adopt-${run}-home-`));
    dep = await composeDeployment(docker, { prefix: `adopt-${run}-a`, hostPort: await freePort() });
    await waitHealthy(dep.url, dep.credential.hash);
  });
  afterAll(async () => {
    await dep?.remove();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('without --yes shows the plan and writes nothing', async () => {
    const r = await cli(home, '--json', 'setup', '--adopt', dep.name);
    expect(r.code).toBe(1);
    const plan = r.json<AdoptionPlan & { written: boolean }>();
    expect(plan.written).toBe(false);
    expect(plan.diff.find((c) => c.field === 'container.image')).toMatchObject({ from: '"comfyui-qwen:latest"', to: JSON.stringify(dep.image) });
    await expect(fs.access(path.join(home, 'config.json'))).rejects.toThrow();
    // The plan never carries the token.
    expect(r.stdout).not.toContain(dep.credential.hash);
  });

  it('adopts image, secret file, user, port, healthcheck and one target per env file with its dialect and keys', async () => {
    const r = await cli(home, '--json', 'setup', '--adopt', dep.name, '--import-from', 'container', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.json<{ written: boolean; config: PanelConfig; imported: { fingerprint: string; username: string } }>();
    expect(out.written).toBe(true);
    const saved = JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8')) as PanelConfig;
    expect(saved).toEqual(out.config);
    expect(saved.container).toMatchObject({
      name: dep.name,
      image: dep.image,
      secretFile: dep.secretFile,
      user: '1000:1000',
      hostPort: dep.port,
      containerPort: 8188,
      bindAddress: '127.0.0.1',
      gpus: 'none',
      mounts: [],
      env: {},
      authRequired: true,
      restartPolicy: 'unless-stopped',
      healthcheck: { command: ['/usr/local/bin/comfy-healthcheck'], intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 },
    });
    expect(saved.container.secretTarget).toBeUndefined();
    expect(saved.container.tokenEnvKeys).toBeUndefined();
    expect(saved.comfyui.url).toBe(dep.url);
    expect(saved.credential.username).toBe('operator');
    expect(saved.env.root).toBe(dep.projectDir);
    expect([...saved.env.targets].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: '.env', dialect: 'compose', keys: { COMFYUI_TOKEN: 'token', COMFYUI_URL: 'url' } },
      { path: 'client.env', dialect: 'raw', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_API_URL: 'url' } },
      { path: 'notebooks/.env', dialect: 'dotenv', keys: { COMFY_TOKEN: 'token', COMFY_USER: 'username' } },
    ]);
    expect(out.imported).toMatchObject({ fingerprint: fingerprint(dep.credential.hash), username: 'operator' });
    // The adopted config describes the container as it is: nothing to recreate.
    const status = await cli(home, '--json', 'container', 'adopt');
    expect(status.json<{ differences: unknown[] }>().differences).toEqual([]);
  });

  it('a rotation commits; each target read by its own reader holds the new token; the audit is consistent', async () => {
    const before = await cli(home, '--json', 'token', 'audit');
    expect(before.json<TokenAudit>().consistent).toBe(true);

    const r = await cli(home, '--json', 'token', 'rotate');
    const result = r.json<{ ok: boolean; fingerprint: string; rolledBack?: boolean }>();
    expect(result, r.stderr).toMatchObject({ ok: true });

    const secret = parsePasswordFile(await fs.readFile(dep.secretFile, 'utf8'));
    if (!secret.ok) throw new Error(secret.reason);
    expect(secret.hash).not.toBe(dep.credential.hash);
    expect(secret.username).toBe('operator');
    // Still the container user's, or the entrypoint could not read it at the next start.
    expect(statSync(dep.secretFile).uid).toBe(DOUBLE_IMAGE_UID);

    const files = await readBack(dep.projectDir);
    expect(files.compose.COMFYUI_TOKEN).toBe(secret.hash);
    expect(files.raw.COMFYUI_BEARER_TOKEN).toBe(secret.hash);
    expect(files.dotenv.COMFY_TOKEN).toBe(secret.hash);
    expect(files.compose.COMFYUI_URL).toBe(dep.url);
    expect(files.raw.COMFYUI_API_URL).toBe(dep.url);

    expect((await probeAuth(dep.url, secret.hash, 3000)).status).toBe(200);
    expect((await probeAuth(dep.url, dep.credential.hash, 3000)).status).toBe(401);
    const audit = (await cli(home, '--json', 'token', 'audit')).json<TokenAudit>();
    expect(audit.locations.map((l) => [l.name, l.status])).toEqual(expect.arrayContaining([['container', 'match'], ['secret-file', 'match'], ['env:.env', 'match'], ['env:client.env', 'match'], ['env:notebooks/.env', 'match']]));
    expect(audit.consistent).toBe(true);
  });
});

describe.skipIf(!d.ok)('a token in the container environment (container-env:<KEY>)', () => {
  const docker = d.ok ? d.docker : (undefined as never);
  let home: string;
  let dep: ComposeDeployment;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), `adopt-${run}-home-`));
    dep = await composeDeployment(docker, { prefix: `adopt-${run}-b`, hostPort: await freePort(), tokenInContainerEnv: true });
    await waitHealthy(dep.url, dep.credential.hash);
  });
  afterAll(async () => {
    await dep?.remove();
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('is adopted as tokenEnvKeys (the value stays out of the config) and reported stale after a rotation, with the compose command', async () => {
    const r = await cli(home, '--json', 'setup', '--adopt', dep.name, '--import-from', 'container', '--yes');
    expect(r.code, r.stdout).toBe(0);
    const text = await fs.readFile(path.join(home, 'config.json'), 'utf8');
    expect(text).not.toContain(dep.credential.hash);
    const saved = JSON.parse(text) as PanelConfig;
    expect(saved.container.tokenEnvKeys).toEqual(['COMFYUI_BEARER_TOKEN']);
    expect(saved.container.env).toEqual({});
    // comfyui.env is the server's env_file: a compose-dialect target holding the token.
    expect(saved.env.targets).toContainEqual({ path: 'comfyui.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token' } });

    const before = (await cli(home, '--json', 'token', 'audit')).json<TokenAudit>();
    expect(before.locations.find((l) => l.name === 'container-env:COMFYUI_BEARER_TOKEN')).toMatchObject({ status: 'match' });
    expect(before.consistent).toBe(true);

    const rotated = await cli(home, '--json', 'token', 'rotate');
    expect(rotated.json(), rotated.stderr).toMatchObject({ ok: true });
    const audit = (await cli(home, '--json', 'token', 'audit')).json<TokenAudit>();
    const inEnv = audit.locations.find((l) => l.name === 'container-env:COMFYUI_BEARER_TOKEN');
    expect(inEnv).toMatchObject({ status: 'stale', fingerprint: fingerprint(dep.credential.hash) });
    expect(inEnv?.fix).toContain(`docker compose --project-directory ${dep.projectDir} -p ${dep.project} -f ${path.join(dep.projectDir, 'compose.yaml')} up -d --no-deps --force-recreate comfyui`);
    expect(audit.consistent).toBe(false);
    // The env file that feeds it already holds the new token: the compose recreate makes the container current.
    const newHash = (await fs.readFile(dep.secretFile, 'utf8')).split('\n')[0];
    expect(readEnvValues(await fs.readFile(path.join(dep.projectDir, 'comfyui.env'), 'utf8'), 'compose', { lookup: () => undefined }).COMFYUI_BEARER_TOKEN).toBe(newHash);
  });

  it('a recreate from the panel is refused and names the compose command instead', async () => {
    // The adopted config matches the container: nothing to recreate.
    const same = await cli(home, '--json', 'container', 'recreate');
    expect(same.json<{ recreated: boolean }>().recreated).toBe(false);
    const file = path.join(home, 'config.json');
    const cfg = JSON.parse(await fs.readFile(file, 'utf8')) as PanelConfig;
    await fs.writeFile(file, JSON.stringify({ ...cfg, container: { ...cfg.container, restartPolicy: 'always' } }));
    const refused = await cli(home, '--json', 'container', 'recreate');
    expect(refused.code).toBe(1);
    const err = refused.json<{ error: { code: string; fix: string } }>().error;
    expect(err.code).toBe('container-compose-owned');
    expect(err.fix).toContain(`-p ${dep.project}`);
    expect(err.fix).toContain('up -d --no-deps --force-recreate comfyui');
    // The Container page's report carries the same command; compose is not installed here, so it is not offered to run.
    const report = (await cli(home, '--json', 'container', 'adopt')).json<{ composeCommand: string; composeAvailable: boolean }>();
    expect(err.fix.endsWith(report.composeCommand)).toBe(true);
    // The engine the panel uses is named for compose too (here from DOCKER_HOST).
    expect(report.composeCommand).toMatch(/^DOCKER_HOST=\S+ docker compose /);
    expect(report.composeAvailable).toBe(false);
    const asked = await cli(home, '--json', 'container', 'compose-apply');
    expect(asked.json()).toEqual({ ran: false, command: report.composeCommand });
    const missing = await cli(home, '--json', 'container', 'compose-apply', '--yes');
    expect(missing.json<{ error: { code: string; fix: string } }>().error).toMatchObject({ code: 'compose-missing', fix: expect.stringContaining(report.composeCommand) });
    // Still the compose-made container, still serving.
    expect((await docker.getContainer(dep.name).inspect()).Config.Labels['com.docker.compose.project']).toBe(dep.project);
  });
});
