/**
 * Budgets for health checks. Every check has a time budget (the runner's deadline, passed on
 * as an AbortSignal); heavy ones (whose work grows with the operator's files) also get a
 * memory budget by running in a worker thread with its own heap limit, so a check that needs
 * too much memory or never ends is stopped on its own and the process carries on.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PanelError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { fingerprintKeyHandle } from '../redact.js';
import type { IsolatedTask, IsolatedTasks } from './worker-tasks.js';

export interface WorkerBudget {
  /** Old-generation heap of the worker; past it the worker is stopped (not the process). */
  maxHeapMb: number;
  deadlineMs: number;
  /** The caller giving up (the sweep's deadline) stops the worker too. */
  signal?: AbortSignal;
}

/** What a worker posts once: its answer or why it failed (already free of secrets). */
export type WorkerReply<T> = { ok: true; value: T } | { ok: false; error: string };

const budgetError = (message: string) => new PanelError(message, 'check-budget', 'Run the same command from the CLI to see why it is so heavy, e.g. `comfy-panel env audit`; health.checkMemoryMb raises the limit.');

/**
 * Runs a worker script that posts one WorkerReply, within the budget. A .ts script (running
 * from source: tests, tsx) is loaded through tsx; the built app passes its bundled .mjs.
 */
export function runInWorker<T>(script: URL | string, input: unknown, budget: WorkerBudget): Promise<T> {
  const file = typeof script === 'string' ? script : fileURLToPath(script);
  const resourceLimits = { maxOldGenerationSizeMb: budget.maxHeapMb, maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(budget.maxHeapMb / 4))) };
  const worker = file.endsWith('.ts')
    ? new Worker(fromSource(file), { eval: true, workerData: input, resourceLimits })
    : new Worker(file, { workerData: input, resourceLimits });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      budget.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(budgetError(`no answer within ${budget.deadlineMs} ms; the check was stopped`))), budget.deadlineMs);
    const onAbort = () => finish(() => reject(budgetError('stopped: the sweep stopped waiting for it')));
    if (budget.signal?.aborted) onAbort();
    budget.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: WorkerReply<T>) => finish(() => (reply.ok ? resolve(reply.value) : reject(new PanelError(reply.error, 'check-failed')))));
    worker.once('error', (e: Error & { code?: string }) =>
      finish(() => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? budgetError(`the check needed more than its ${budget.maxHeapMb} MB memory budget and was stopped`) : e)),
    );
    worker.once('exit', (code) => finish(() => reject(new PanelError(`the check's worker exited (code ${code}) without an answer`, 'check-failed'))));
  });
}

/** A bootstrap that registers tsx in the worker before importing the .ts entry (a worker's `--import` does not apply to its entry on Node 20). */
function fromSource(file: string): string {
  const tsxApi = createRequire(import.meta.url).resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs');
  return `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); });`;
}

/** The worker entry: the source module when running from source, else the bundle beside the CLI. */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? path.join(path.dirname(here), 'worker.ts') : path.join(packageRoot(), 'dist', 'health-worker.mjs');
}

/** Runs one of the heavy tasks (worker-tasks.ts) in its own worker. */
export function runIsolated<K extends IsolatedTask>(task: K, input: Parameters<IsolatedTasks[K]>[0], budget: WorkerBudget): Promise<Awaited<ReturnType<IsolatedTasks[K]>>> {
  // The worker fingerprints values in its messages: with this install's key, like the main thread.
  return runInWorker(workerScript(), { task, input, fingerprintKey: fingerprintKeyHandle() }, budget);
}
