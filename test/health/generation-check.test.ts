import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { comfyClientFor } from '../../app/comfy/connect.js';
import { runGeneration } from '../../app/comfy/generation.js';
import { appendRun, listRuns, runsFile } from '../../app/comfy/runs.js';
import { loadWorkflow } from '../../app/comfy/workflow.js';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { authAcceptsTokenCheck } from '../../app/health/checks/auth-accepts-token.js';
import { generationCheck } from '../../app/health/checks/generation.js';
import { REMEDIES } from '../../app/health/troubleshoot.js';
import { SweepContext } from '../../app/health/sweep-context.js';
import { openVault } from '../../app/tokens/vault.js';
import { useDouble, type Started } from '../double/helpers.js';

let s: Started;
useDouble({}, (started) => (s = started));
const home = mkdtempSync(path.join(os.tmpdir(), 'truth-gen-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
afterAll(() => rmSync(home, { recursive: true, force: true }));

const setup = async () => {
  const config = parseConfig({ comfyui: { url: s.comfy.url, timeoutMs: 5_000 } });
  await openVault(config, paths).write({ current: { hash: s.hash, username: 'admin', createdAt: new Date().toISOString() } });
  const ctx = () => new SweepContext({ config, paths, configFile: path.join(home, 'config.json') });
  const smoke = async (env: NodeJS.ProcessEnv = {}) =>
    runGeneration({ client: await comfyClientFor(config, paths, { env }), workflow: await loadWorkflow('smoke'), params: {}, outDir: path.join(home, 'out'), historyFile: runsFile(paths) });
  return { ctx, smoke };
};

describe('the generation tile says what happened (issue 17 item 6)', () => {
  it('before any smoke run: unknown, and the explanation does not claim a run failed', async () => {
    const { ctx } = await setup();
    const v = await generationCheck.run(ctx());
    expect(v).toMatchObject({ status: 'unknown', message: 'no smoke generation has run yet', fix: { failure: 'generation-never-run', action: 'generateRun', input: { workflow: 'smoke' } } });
    expect(v.fix?.explanation).toBe(REMEDIES['generation-never-run'].explanation);
    expect(v.fix?.explanation).not.toMatch(/failed/);
  });

  it('a smoke run with a bad COMFYUI_TOKEN override: a warning about the override, not "write the vault\'s token", while the vault token is green', async () => {
    const { ctx, smoke } = await setup();
    const r = await smoke({ COMFYUI_TOKEN: `$2b$12$${'x'.repeat(53)}` });
    expect(r).toMatchObject({ ok: false, errorKind: 'unauthorized', tokenSource: 'override' });
    expect((await listRuns(runsFile(paths), 1))[0]?.tokenSource).toBe('override');
    expect((await authAcceptsTokenCheck.run(ctx())).status).toBe('ok');
    const v = await generationCheck.run(ctx());
    expect(v).toMatchObject({ status: 'warn', message: expect.stringMatching(/COMFYUI_TOKEN, not the vault's/), fix: { failure: 'generation-token-override', action: 'generateRun' } });
    expect(v.fix?.action).not.toBe('tokenUnify');
  });

  it('a run record from before token sources were kept, refused while the vault token is accepted now: a warning to run again', async () => {
    const { ctx, smoke } = await setup();
    await smoke({ COMFYUI_TOKEN: 'wrong' });
    const file = runsFile(paths);
    const [last] = await listRuns(file, 1);
    const { tokenSource: _dropped, ...old } = last!;
    await appendRun(file, old);
    expect(await generationCheck.run(ctx())).toMatchObject({ status: 'warn', message: expect.stringMatching(/is accepted now/), fix: { action: 'generateRun' } });
  });

  it('a smoke run with the vault token succeeds and records the vault as its source', async () => {
    const { ctx, smoke } = await setup();
    expect(await smoke()).toMatchObject({ ok: true, tokenSource: 'vault' });
    expect((await generationCheck.run(ctx())).status).toBe('ok');
  });
});
