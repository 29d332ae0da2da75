/**
 * Issue 16 item 6: every Docker engine call has a deadline. An engine that accepts
 * `POST /containers/X/restart` and never answers must not hang a rotation with the credential
 * lock held, nor serve's start-up recovery; the rotation rolls back (or says it could not)
 * within bounded time. The engine is a fake on a unix socket (test/hostile/engine.ts).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { PanelConfig } from '../../app/config/schema.js';
import type { RotationStep } from '../../app/contract/ops/tokens.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { createPanelContext } from '../../app/service/context.js';
import { createPanelHandlers } from '../../app/service/index.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { createCredential, passwordFileContent } from '../../app/tokens/credential.js';
import { readJournal } from '../../app/tokens/journal.js';
import { credentialLockHolder } from '../../app/tokens/lock.js';
import { Vault } from '../../app/tokens/vault.js';
import { startFakeEngine, type FakeEngine } from '../hostile/engine.js';
import { useFastBcrypt } from '../tokens/support.js';

useFastBcrypt();

const NAME = 'hostile-deadline-comfy';
let dir: string;
let engine: FakeEngine;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'docker-deadlines-'));
  engine = await startFakeEngine(dir, NAME);
});
afterAll(async () => {
  await engine.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function config(home: string): PanelConfig {
  return parseConfig({
    comfyui: { url: 'http://127.0.0.1:9', timeoutMs: 500 },
    docker: { host: engine.host, timeoutMs: 500 },
    container: { name: NAME, stopTimeoutSec: 1, secretFile: path.join(home, 'secrets', 'PASSWORD') },
    vault: { dir: path.join(home, 'vault') },
    credential: { healthyTimeoutSec: 5 },
  });
}

describe('an engine that never answers', () => {
  it('restart and stop fail with a timeout instead of waiting forever', async () => {
    engine.silent.add('restart').add('stop');
    const m = new ContainerManager(config(dir));
    await expect(m.restart()).rejects.toMatchObject({ problem: { kind: 'timeout' } });
    await expect(m.stop()).rejects.toMatchObject({ problem: { kind: 'timeout', message: expect.stringMatching(/did not answer within \d+ ms/) } });
  });

  it('a silent inspect is a timeout too, on the client for short calls and on the one for long calls', async () => {
    engine.silent.add('inspect');
    try {
      const m = new ContainerManager(config(dir));
      await expect(m.status()).rejects.toMatchObject({ problem: { kind: 'timeout' } });
      await expect(m.restart()).rejects.toMatchObject({ problem: { kind: 'timeout' } }); // its inspect comes first
    } finally {
      engine.silent.delete('inspect');
    }
  });

  it('a rotation whose restart never returns ends in bounded time, lock released; serve start-up recovery does not hang either', async () => {
    engine.silent.add('restart');
    const home = path.join(dir, 'rotation');
    const cfg = config(home);
    const old = await createCredential('comfy');
    await new Vault(cfg.vault.dir!).write({ current: old });
    await fs.mkdir(path.dirname(cfg.container.secretFile!), { recursive: true });
    await fs.writeFile(cfg.container.secretFile!, passwordFileContent(old), { mode: 0o600 });
    const paths = panelPaths({ COMFY_PANEL_HOME: home });

    const res = await tokenActions(cfg, paths, { actor: 'cli:test' }).rotate();
    // the restart timed out, the rollback put the files back but its restart timed out too
    expect(res).toMatchObject({ outcome: 'rollback-failed', failedStep: 'restart' });
    expect(res.steps.find((s) => s.name === 'restart')?.message).toMatch(/did not answer within/);
    expect(await fs.readFile(cfg.container.secretFile!, 'utf8')).toBe(passwordFileContent(old));
    expect(await credentialLockHolder(cfg.vault.dir!)).toBeUndefined();
    expect(await readJournal(new Vault(cfg.vault.dir!))).toMatchObject({ step: 'rolling-back' });

    // The panel starting now settles the journal; it must finish (and say why it failed), not hang.
    const ctx = createPanelContext({ loaded: { config: cfg, path: path.join(home, 'config.json'), configured: false }, paths, mode: 'browser', version: 'test' });
    const bus = ctx.bus;
    const steps: RotationStep[] = [];
    const done = new Promise<void>((resolve) => bus.on('rotationStep', (s) => (steps.push(s), s.step === 'rollback-restart' && s.status === 'failed' ? resolve() : undefined)));
    const handlers = createPanelHandlers(ctx);
    await done;
    await expect.poll(() => credentialLockHolder(cfg.vault.dir!), { timeout: 20_000 }).toBeUndefined();
    // and an operator's `token recover` is not told "already running"
    const again = await handlers.tokenRecover({});
    expect(again.outcome).toBe('rollback-failed');
    expect(again.error).toMatch(/did not answer/);

    // the engine answers again: recovery settles back to the old credential
    engine.silent.delete('restart');
    const settled = await tokenActions(cfg, paths, { actor: 'cli:test', server: { restart: async () => undefined, waitHealthy: async () => undefined, probe: async (t) => ({ status: t === old.hash ? 200 : 401, latencyMs: 1 }) } }).recover();
    expect(settled.outcome).toBe('rolled-back');
  }, 120_000);
});
