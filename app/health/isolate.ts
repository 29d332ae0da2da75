/**
 * Budgets for health checks. Every check has a time budget (the runner's deadline, passed on
 * as an AbortSignal); heavy ones (whose work grows with the operator's files) also get a
 * memory budget by running in a worker thread with its own heap limit, so a check that needs
 * too much memory or never ends is stopped on its own and the process carries on.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { deadline } from '../deadline.js';
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
 * Workers kept between tasks, per script and heap limit: starting one costs far more CPU than an
 * audit (tens of ms, more from source), and a fleet sweeps many instances at once. At most
 * `parallel` run; more tasks wait their turn (their deadline runs while they wait). An idle worker
 * does not keep the process alive and ends after IDLE_MS. A worker stopped for its budget is dropped.
 */
const IDLE_MS = 30_000;

interface Idle {
  worker: Worker;
  timer: NodeJS.Timeout;
}

export class WorkerPool {
  private readonly idle = new Map<string, Idle[]>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly parallel = Math.max(2, availableParallelism())) {}

  /** Waits for a free slot; the returned release frees it. */
  private async slot(signal: AbortSignal): Promise<() => void> {
    if (this.running >= this.parallel) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal.removeEventListener('abort', stop);
          resolve();
        };
        const stop = () => {
          this.waiting.splice(this.waiting.indexOf(go), 1);
          reject(signal.reason as Error);
        };
        this.waiting.push(go);
        signal.addEventListener('abort', stop, { once: true });
      });
    }
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.();
    };
  }

  private take(key: string, spawn: () => Worker): Worker {
    const idle = this.idle.get(key)?.pop();
    if (!idle) return spawn();
    clearTimeout(idle.timer);
    idle.worker.ref();
    return idle.worker;
  }

  private give(key: string, worker: Worker): void {
    worker.unref();
    const list = this.idle.get(key) ?? [];
    this.idle.set(key, list);
    const entry: Idle = {
      worker,
      timer: setTimeout(() => {
        list.splice(list.indexOf(entry), 1);
        void worker.terminate();
      }, IDLE_MS).unref(),
    };
    list.push(entry);
  }

  /** Runs one task in a worker of `script` that answers each message with one WorkerReply, within the budget. */
  async run<T>(script: URL | string, input: unknown, budget: WorkerBudget): Promise<T> {
    const file = typeof script === 'string' ? script : fileURLToPath(script);
    const resourceLimits = { maxOldGenerationSizeMb: budget.maxHeapMb, maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(budget.maxHeapMb / 4))) };
    const key = `${file}\0${budget.maxHeapMb}`;
    // One signal for the deadline and the caller giving up, from the moment of the call.
    const timer = deadline(budget.deadlineMs);
    const stop = AbortSignal.any([timer.signal, ...(budget.signal ? [budget.signal] : [])]);
    const why = () => (budget.signal?.aborted ? budgetError('stopped: the sweep stopped waiting for it') : budgetError(`no answer within ${budget.deadlineMs} ms; the check was stopped`));
    const release = await this.slot(stop).catch(() => {
      timer.clear();
      throw why();
    });
    const worker = this.take(key, () => (file.endsWith('.ts') ? new Worker(fromSource(file), { eval: true, resourceLimits }) : new Worker(file, { resourceLimits })));
    try {
      return await new Promise<T>((resolve, reject) => {
        const finish = (settle: () => void, keep: boolean) => {
          stop.removeEventListener('abort', onAbort);
          worker.off('message', onMessage).off('error', onError).off('exit', onExit);
          if (keep) this.give(key, worker);
          else void worker.terminate();
          settle();
        };
        const onAbort = () => finish(() => reject(why()), false);
        const onMessage = (reply: WorkerReply<T>) => finish(() => (reply.ok ? resolve(reply.value) : reject(new PanelError(reply.error, 'check-failed'))), true);
        const onError = (e: Error & { code?: string }) =>
          finish(() => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? budgetError(`the check needed more than its ${budget.maxHeapMb} MB memory budget and was stopped`) : e), false);
        const onExit = (code: number) => finish(() => reject(new PanelError(`the check's worker exited (code ${code}) without an answer`, 'check-failed')), false);
        if (stop.aborted) return onAbort();
        stop.addEventListener('abort', onAbort, { once: true });
        worker.on('message', onMessage).once('error', onError).once('exit', onExit);
        worker.postMessage(input);
      });
    } finally {
      timer.clear();
      release();
    }
  }
}

/** The process's health workers (host-wide, like the ssh connections): every instance's sweeps share them. */
export const processWorkers = new WorkerPool();

/** Runs a worker script (it answers each message it gets with one WorkerReply) within the budget. */
export function runInWorker<T>(script: URL | string, input: unknown, budget: WorkerBudget, pool: WorkerPool = processWorkers): Promise<T> {
  return pool.run(script, input, budget);
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
