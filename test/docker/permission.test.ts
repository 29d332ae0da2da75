/**
 * Issue 16 item 20: with a Docker socket the user may not open, `container status` must say
 * permission denied, never that a running container is absent. The engine is a fake on a
 * unix socket reporting the container as running (root sees that); the CLI runs as uid 65534,
 * for whom the 0600 socket refuses the connection.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import type { ContainerOverview } from '../../app/contract/ops/container.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { DockerError } from '../../app/docker/problems.js';
import { startFakeEngine, type FakeEngine } from '../hostile/engine.js';

const NAME = 'hostile-perm-comfy';
const dir = mkdtempSync(path.join(os.tmpdir(), 'docker-perm-'));
chmodSync(dir, 0o755);
let engine: FakeEngine;
beforeAll(async () => {
  engine = await startFakeEngine(dir, NAME);
  chmodSync(engine.host.slice('unix://'.length), 0o600);
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = () => parseConfig({ docker: { host: engine.host, timeoutMs: 3000 }, container: { name: NAME } });

describe('a Docker socket the user may not open', () => {
  it('the overview of an unreachable engine is "unknown", never "absent"', () => {
    const o = ContainerManager.unreachable(NAME, new DockerError({ kind: 'permission-denied', message: 'Permission denied on the Docker socket', fix: 'docker group' }));
    expect(o.phase).toBe('unknown');
    expect(o.exists).toBeNull();
    expect(o.problem?.kind).toBe('permission-denied');
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv'))('`container status` as a user without access says permission denied for a running container', async () => {
    // root reaches the engine: the container runs
    expect((await new ContainerManager(config()).status()).phase).toBe('healthy');
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config()), { mode: 0o644 });
    const home = path.join(dir, 'home');
    const run = await promisify(execFile)(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', path.resolve('test/tokens/fixtures/cli.ts'), '--json', '--config', file, 'container', 'status'],
      { cwd: process.cwd(), env: { ...process.env, HOME: dir, COMFY_PANEL_HOME: home, TSX_TSCONFIG_PATH: path.resolve('tsconfig.json') } },
    ).catch((e: { stdout: string; code: number }) => e);
    const o = JSON.parse(run.stdout) as ContainerOverview & { state: string };
    expect(o.state).toBe('unknown');
    expect(o.exists).toBeNull();
    expect(o.problem).toMatchObject({ kind: 'permission-denied', fix: expect.stringMatching(/docker group/) });
    expect(o.reasons.join(' ')).toMatch(/Permission denied/);
    expect(JSON.stringify(o)).not.toMatch(/absent/);
  });
});
