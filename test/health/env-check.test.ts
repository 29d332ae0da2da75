import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { envConsistencyCheck } from '../../app/health/checks/env-consistency.js';
import { SweepContext } from '../../app/health/sweep-context.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'health-env-'));
const root = path.join(home, 'project');
const paths = panelPaths({ COMFY_PANEL_HOME: home });
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Compose drops "$" + letter as an unset variable: this hash arrives mangled when unquoted. */
const HASH = `$2b$12$Q${'q'.repeat(52)}`;

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

// The audit runs in a worker loaded through tsx from source: seconds on a loaded machine, so a
// budget far above the default (budgets have their own tests in budget.test.ts).
const run = (env: Record<string, unknown>) =>
  envConsistencyCheck.run(new SweepContext({ config: parseConfig({ env, health: { checkTimeoutMs: 60_000 } }), paths, configFile: path.join(home, 'config.json') }));

describe('env-consistency', () => {
  it('is unknown, saying what to set, when env.root is not configured', async () => {
    const v = await run({});
    expect(v.status).toBe('unknown');
    expect(v.fix?.text).toMatch(/env\.root/);
  });

  it('offers env sync in one click when the unsafe file is a configured target, not otherwise', async () => {
    write('deploy/compose.yaml', 'services:\n  nb:\n    image: x\n    env_file: .env\n');
    write('deploy/.env', `COMFYUI_BEARER_TOKEN=${HASH}\n`);
    const plain = await run({ root });
    expect(plain).toMatchObject({ status: 'fail', fix: { text: expect.stringMatching(/single-quoted/), failure: 'compose-unsafe-hash' } });
    expect(plain.fix?.action).toBeUndefined();
    const target = await run({ root, targets: [{ path: 'deploy/.env', dialect: 'compose', keys: { COMFYUI_BEARER_TOKEN: 'token' } }] });
    expect(target).toMatchObject({ status: 'fail', fix: { action: 'envSyncApply' } });
    expect(JSON.stringify([plain, target])).not.toContain(HASH);
  });

  it('fails on a key with different values in two files, and is ok once they agree', async () => {
    rmSync(path.join(root, 'deploy'), { recursive: true, force: true });
    write('.env', 'COMFYUI_URL=http://127.0.0.1:8188\n');
    write('notebooks/.env', 'COMFYUI_URL=http://127.0.0.1:8189\n');
    const conflict = await run({ root });
    expect(conflict.status).toBe('fail');
    expect(conflict.message).toMatch(/COMFYUI_URL/);
    write('notebooks/.env', 'COMFYUI_URL=http://127.0.0.1:8188\n');
    expect((await run({ root })).status).toBe('ok');
  });
});
