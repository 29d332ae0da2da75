/** Entry of the health worker thread (see isolate.ts): answers each heavy task it is sent, then waits for the next. */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import { adoptFingerprintKey, redact, type FingerprintKeyHandle } from '../redact.js';
import type { WorkerReply } from './isolate.js';
import { isolatedTasks, type IsolatedTask } from './worker-tasks.js';

parentPort?.on('message', (message: { task: IsolatedTask; input: never; fingerprintKey: FingerprintKeyHandle }) => {
  void (async () => {
    adoptFingerprintKey(message.fingerprintKey);
    let reply: WorkerReply<unknown>;
    try {
      reply = { ok: true, value: await isolatedTasks[message.task](message.input) };
    } catch (e) {
      reply = { ok: false, error: redact(errorMessage(e)).slice(0, 1_000) };
    }
    parentPort?.postMessage(reply);
  })();
});
