/** Entry of the health worker thread (see isolate.ts): runs one heavy task and posts its answer. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import { redact } from '../redact.js';
import type { WorkerReply } from './isolate.js';
import { isolatedTasks, type IsolatedTask } from './worker-tasks.js';

const { task, input } = workerData as { task: IsolatedTask; input: never };
let reply: WorkerReply<unknown>;
try {
  reply = { ok: true, value: await isolatedTasks[task](input) };
} catch (e) {
  reply = { ok: false, error: redact(errorMessage(e)).slice(0, 1_000) };
}
parentPort?.postMessage(reply);
