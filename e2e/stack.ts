// A real deployment for e2e tests: the ComfyUI double as a container on the private Docker
// engine (or on the host), a project folder with .env files, a secret file, a panel home
// with its config, and the CLI run exactly as an operator would.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import Docker from 'dockerode';
import type { Page } from '@playwright/test';
import { ensureDoubleImage } from '../test/support/double-image.js';
import { freePort } from '../test/support/ports.js';
import { expect, HOMES, startPanel, test, type PanelServer } from './panel.js';

export interface Credential {
  password: string;
  hash: string;
  username: string;
}

export function makeCredential(): Credential {
  for (;;) {
    const password = `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    // Cost 4 keeps tests fast; the double compares the hash string like the real node.
    const hash = bcrypt.hashSync(password, 4);
    // Compose mangles an unquoted hash only when its salt starts with a letter ($ + digit stays):
    // such hashes make "an unquoted hash is compose-unsafe" hold in every run, not in 80% of them.
    if (/^\$2[aby]\$\d\d\$[A-Za-z]/.test(hash)) return { password, hash, username: 'operator' };
  }
}

export function docker(): Docker {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  return new Docker({ socketPath: host.replace(/^unix:\/\//, '') });
}

export { freePort };

export interface Stack {
  name: string;
  home: string;
  project: string;
  secretFile: string;
  port: number;
  containerName: string;
  credential: Credential;
  config: Record<string, unknown>;
  /** Runs `comfy-panel --json ARGS` with this home; output is kept under e2e-output/logs for the leak scan. */
  cli(args: string[]): { status: number; json: unknown; stdout: string; stderr: string };
  removeContainer(): Promise<void>;
}

export async function newStack(name: string): Promise<Stack> {
  const image = await ensureDoubleImage(docker());
  const home = path.join(HOMES, `${name}-${Date.now()}`);
  const project = path.join(home, 'project');
  const secrets = path.join(home, 'secrets');
  for (const d of [project, path.join(project, 'notebooks'), secrets]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  const credential = makeCredential();
  const secretFile = path.join(secrets, 'comfyui-password');
  // ComfyUI-Login's PASSWORD format: hash, newline, username, no trailing newline.
  writeFileSync(secretFile, `${credential.hash}\n${credential.username}`, { mode: 0o600 });
  // E2E_PREFIX: a session sharing the engine names its containers its own way (e.g. ui-).
  const containerName = `${process.env.E2E_PREFIX ?? 'e2e'}-${name}-${process.pid}-${Date.now() % 100_000}`;
  const config = {
    comfyui: { url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 },
    container: {
      name: containerName,
      image,
      hostPort: port,
      gpus: 'none',
      secretFile,
      stopTimeoutSec: 2,
      // Checked every second, but patient: on a loaded machine one exec of the check can take seconds,
      // and a container marked unhealthy at start-up fails every spec that needs it healthy.
      healthcheck: { intervalSec: 1, timeoutSec: 10, retries: 3, startPeriodSec: 30 },
    },
    env: {
      root: project,
      targets: [
        { path: '.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token', COMFYUI_URL: 'url' } },
        { path: 'notebooks/.env', dialect: 'dotenv', keys: { COMFYUI_API_TOKEN: 'token' } },
      ],
    },
    health: { intervalSec: 3_600, retries: 0, checkTimeoutMs: 5_000, probeRequests: 20 },
  };
  writeFileSync(path.join(home, 'config.json'), JSON.stringify(config, null, 2), { mode: 0o600 });
  const logDir = path.join(path.dirname(HOMES), 'logs');
  mkdirSync(logDir, { recursive: true });
  return {
    name,
    home,
    project,
    secretFile,
    port,
    containerName,
    credential,
    config,
    cli(args) {
      const r = spawnSync(process.execPath, ['bin/comfy-panel.mjs', '--json', ...args], {
        env: { ...process.env, COMFY_PANEL_HOME: home },
        encoding: 'utf8',
        timeout: 120_000,
      });
      appendFileSync(path.join(logDir, `cli-${name}.log`), `$ comfy-panel --json ${args.join(' ')}\n${r.stdout}${r.stderr}\n`);
      let json: unknown;
      try {
        json = JSON.parse(r.stdout);
      } catch {
        json = undefined;
      }
      return { status: r.status ?? -1, json, stdout: r.stdout, stderr: r.stderr };
    },
    async removeContainer() {
      await docker()
        .getContainer(containerName)
        .remove({ force: true })
        .catch(() => undefined);
    },
  };
}

/**
 * Registers the stack's set-up and tear-down for a spec file: `up` starts the container,
 * `adopt` imports its token into the vault, `unify` also writes it to every env target.
 */
export function useStack(name: string, opts: { up?: boolean; adopt?: boolean; unify?: boolean; prepare?: (s: Stack) => Promise<void> | void } = {}): () => Stack {
  let stack: Stack | undefined;
  test.beforeAll(async () => {
    stack = await newStack(name);
    await opts.prepare?.(stack);
    if (opts.up) expect(stack.cli(['container', 'up']).status).toBe(0);
    if (opts.adopt) {
      const imported = stack.cli(['token', 'import', '--from-container']);
      expect(imported.status).toBe(0);
      if (opts.unify) expect(stack.cli(['token', 'unify', '--to', (imported.json as { fingerprint: string }).fingerprint]).status).toBe(0);
    }
  });
  test.afterAll(async () => stack?.removeContainer());
  return () => stack!;
}

/** Starts the panel on the stack's home, signs in with the printed URL and opens `hash` (e.g. "#/tokens"). */
export async function openPanel(page: Page, stack: Stack, hash = ''): Promise<PanelServer> {
  const panel = await startPanel(stack.name, { home: stack.home });
  await page.goto(panel.url);
  if (hash) await page.goto(`${panel.origin}/${hash}`);
  return panel;
}
