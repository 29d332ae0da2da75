/** Entry of the health worker thread (see isolate.ts): runs one heavy task and posts its answer. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import { adoptFingerprintKey, redact, type FingerprintKeyHandle } from '../redact.js';
import type { WorkerReply } from './isolate.js';
import { isolatedTasks, type IsolatedTask } from './worker-tasks.js';

const { task, input, fingerprintKey } = workerData as { task: IsolatedTask; input: never; fingerprintKey: FingerprintKeyHandle };
adoptFingerprintKey(fingerprintKey);
let reply: WorkerReply<unknown>;
try {
  reply = { ok: true, value: await isolatedTasks[task](input) };
} catch (e) {
  reply = { ok: false, error: redact(errorMessage(e)).slice(0, 1_000) };
}
parentPort?.postMessage(reply);
