/**
 * Issue 16 item 1: every health check has a time and a memory budget, so no check can take
 * the process down. Heavy checks (the env audit) run in a worker thread with a heap limit and
 * a deadline; past either, the worker is stopped and the check reports why.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { envConsistencyCheck } from '../../app/health/checks/env-consistency.js';
import { runInWorker, WorkerPool } from '../../app/health/isolate.js';
import { runSweep } from '../../app/health/runner.js';
import { SweepContext } from '../../app/health/sweep-context.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'health-budget-'));
const paths = panelPaths({ COMFY_PANEL_HOME: home });
afterAll(() => rmSync(home, { recursive: true, force: true }));

const GREEDY = new URL('./fixtures/greedy-worker.ts', import.meta.url);
const heapMb = () => process.memoryUsage().heapUsed / 2 ** 20;

describe('the worker budget', () => {
  it('stops a worker that allocates past its heap limit, and the process carries on', async () => {
    const before = heapMb();
    const err = await runInWorker(GREEDY, { mode: 'allocate' }, { maxHeapMb: 64, deadlineMs: 60_000 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/needed more than its 64 MB memory budget/);
    expect(heapMb() - before).toBeLessThan(50);
  });

  it('stops a worker that never answers at its deadline, or when the sweep gives up on it', async () => {
    expect(String(await runInWorker(GREEDY, { mode: 'spin' }, { maxHeapMb: 64, deadlineMs: 500 }).catch((e: Error) => e))).toMatch(/no answer within 500 ms/);
    const ac = new AbortController();
    const run = runInWorker(GREEDY, { mode: 'spin' }, { maxHeapMb: 64, deadlineMs: 60_000, signal: ac.signal });
    ac.abort();
    expect(String(await run.catch((e: Error) => e))).toMatch(/stopped/);
    expect(await runInWorker(GREEDY, { mode: 'answer' }, { maxHeapMb: 64, deadlineMs: 60_000 })).toMatchObject({ status: 'ok', message: 'fine' });
  });

  it('keeps a worker that answered for the next task, never one it stopped, and runs no more at once than it may', async () => {
    const pool = new WorkerPool(1);
    const budget = { maxHeapMb: 64, deadlineMs: 60_000 };
    const answer = () => runInWorker<{ thread: number }>(GREEDY, { mode: 'answer' }, budget, pool);
    const first = await answer();
    // Reused: starting a worker costs far more than a task.
    expect((await answer()).thread).toBe(first.thread);
    // One slot: while a runaway holds it, the next task waits and its own deadline ends the wait.
    const spin = runInWorker(GREEDY, { mode: 'spin' }, { maxHeapMb: 64, deadlineMs: 1_500 }, pool);
    expect(String(await runInWorker(GREEDY, { mode: 'answer' }, { maxHeapMb: 64, deadlineMs: 300 }, pool).catch((e: Error) => e))).toMatch(/no answer within 300 ms/);
    expect(String(await spin.catch((e: Error) => e))).toMatch(/no answer within 1500 ms/);
    // The stopped worker is gone: the next task gets a new one.
    expect((await answer()).thread).not.toBe(first.thread);
  });
});

describe('the env-consistency check', () => {
  it('audits a 20,000-line .env inside its budget: the sweep ends, the main heap stays small', async () => {
    const root = path.join(home, 'project');
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, '.env'), 'K=1\n'.repeat(20_000));
    const config = parseConfig({ env: { root }, health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 15_000, probeRequests: 1, checkMemoryMb: 128 } });
    const before = heapMb();
    const [r] = await runSweep([envConsistencyCheck], () => new SweepContext({ config, paths, configFile: path.join(home, 'config.json') }), { timeoutMs: 15_000, retries: 0 });
    // A linear audit finishes in budget (duplicate-key warnings); a quadratic one is stopped at its limit instead of the process.
    expect(r!.message).toMatch(/finding|memory budget|no answer within/);
    expect(heapMb() - before).toBeLessThan(100);
  }, 60_000);

  it('still reports real problems from the worker', async () => {
    const root = path.join(home, 'small');
    mkdirSync(path.join(root, 'deploy'), { recursive: true });
    writeFileSync(path.join(root, 'deploy', 'compose.yaml'), 'services:\n  nb:\n    image: x\n    env_file: .env\n');
    writeFileSync(path.join(root, 'deploy', '.env'), `COMFYUI_BEARER_TOKEN=$2b$12$Q${'q'.repeat(52)}\n`);
    const ctx = new SweepContext({ config: parseConfig({ env: { root } }), paths, configFile: path.join(home, 'config.json') });
    expect(await envConsistencyCheck.run(ctx)).toMatchObject({ status: 'fail', fix: { failure: 'compose-unsafe-hash' } });
  });
});

describe('fingerprints from the worker', () => {
  it('are the same as the main thread computes (one key per install, shared with the worker)', async () => {
    const { fingerprint } = await import('../../app/redact.js');
    const root = path.join(home, 'fp');
    mkdirSync(path.join(root, 'deploy'), { recursive: true });
    writeFileSync(path.join(root, 'deploy', 'compose.yaml'), 'services:\n  nb:\n    image: x\n    env_file: .env\n');
    const hash = `$2b$12$Q${'q'.repeat(52)}`;
    writeFileSync(path.join(root, 'deploy', '.env'), `COMFYUI_BEARER_TOKEN=${hash}\n`);
    const ctx = new SweepContext({ config: parseConfig({ env: { root } }), paths, configFile: path.join(home, 'config.json') });
    expect((await envConsistencyCheck.run(ctx)).message).toContain(fingerprint(hash));
  });
});
