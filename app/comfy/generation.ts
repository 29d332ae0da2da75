import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { GenerationProgress, GenerationResult, GenerationTimings } from '../contract/ops/generate.js';
import { errorMessage, PanelError } from '../errors.js';
import type { ComfyClient } from './client.js';
import { ComfyError } from './errors.js';
import { preflight, type PreflightOptions } from './preflight.js';
import { appendRun, runRecord } from './runs.js';
import type { ImageRef } from './shapes.js';
import { PromptTracker, type PromptOutcome } from './tracker.js';
import { applyParams, withDefaultSeed, type GenerationParams, type Workflow } from './workflow.js';

export interface RunGenerationOptions {
  client: ComfyClient;
  workflow: Workflow;
  params?: GenerationParams;
  /** Created if missing; existing files are never overwritten. */
  outDir: string;
  onProgress?: (p: GenerationProgress) => void;
  /** Aborting interrupts the prompt on the server (or removes it from the queue). */
  signal?: AbortSignal;
  runId?: string;
  /** Checks before submitting; false skips them. */
  preflight?: PreflightOptions | false;
  /** JSONL run history to append to (see runsFile). */
  historyFile?: string;
  /** Longest wait for the end of the prompt after submitting (default 30 min: first model loads are slow). */
  maxWaitMs?: number;
}

/** A new file under the server's file name (basename only: a server must not pick our folders), adding -1, -2... if taken. */
async function createUnique(outDir: string, serverName: string): Promise<{ file: string; handle: FileHandle }> {
  const base = path.basename(serverName);
  const safe = base && base !== '.' && base !== '..' ? base : 'image.png';
  const ext = path.extname(safe);
  const stem = safe.slice(0, safe.length - ext.length);
  for (let n = 0; ; n++) {
    const file = path.resolve(outDir, n === 0 ? safe : `${stem}-${n}${ext}`);
    try {
      return { file, handle: await open(file, 'wx') };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Streams the image to disk; a download that fails leaves no partial file behind. */
async function saveImage(client: ComfyClient, outDir: string, ref: ImageRef): Promise<string> {
  const { file, handle } = await createUnique(outDir, ref.filename);
  try {
    await client.viewImage(ref, (chunk) => handle.write(chunk));
    await handle.close();
    return file;
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true });
    throw e;
  }
}

/** The images to keep: history is authoritative; `executed` messages are the fallback. Temp previews only if nothing else. */
async function imagesOf(client: ComfyClient, promptId: string, fromMessages: ImageRef[]): Promise<ImageRef[]> {
  const refs = await client.history(promptId).then(
    (h) => h.images.map((i) => i.image),
    (e: unknown) => {
      if (e instanceof ComfyError && e.kind === 'not-found') return fromMessages;
      throw e;
    },
  );
  const unique = [...new Map(refs.map((r) => [`${r.type}/${r.subfolder}/${r.filename}`, r])).values()];
  const outputs = unique.filter((r) => r.type === 'output');
  return outputs.length ? outputs : unique;
}

class Interrupted extends Error {}

/** Phase durations from performance.now() marks; a phase that never began counts 0. */
function timingsOf(m: { t0: number; submittedAt?: number; startedAt?: number; endedAt?: number; downloadStart?: number; downloadEnd?: number; end: number }): GenerationTimings {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  // A prompt whose start we missed (reconnect) is timed from its end.
  const started = m.startedAt ?? m.endedAt;
  const queueMs = m.submittedAt !== undefined && started !== undefined ? started - m.submittedAt : 0;
  const executionMs = started !== undefined && m.endedAt !== undefined ? m.endedAt - started : 0;
  const downloadMs = m.downloadStart !== undefined ? (m.downloadEnd ?? m.end) - m.downloadStart : 0;
  const totalMs = m.end - m.t0;
  return {
    queueMs: round(queueMs),
    executionMs: round(executionMs),
    downloadMs: round(downloadMs),
    totalMs: round(totalMs),
    overheadMs: round(Math.max(0, totalMs - queueMs - executionMs - downloadMs)),
  };
}

/**
 * After a reconnect the messages sent meanwhile are lost: the history tells whether the prompt
 * ended, the queue whether the server still has it at all (a restart forgets it).
 */
async function catchUp(client: ComfyClient, tracker: PromptTracker): Promise<void> {
  const id = tracker.promptId;
  if (!id) return;
  try {
    const h = await client.history(id);
    if (h.status === 'error') tracker.settle({ kind: 'error', error: new ComfyError('execution', `ComfyUI reports prompt ${id} failed (seen after a reconnect)`) });
    else if (h.completed) tracker.settle({ kind: 'success' });
  } catch (e) {
    if (!(e instanceof ComfyError && e.kind === 'not-found')) return; // the socket watchdog handles a dead server
    const q = await client.queue().catch(() => undefined);
    if (q && ![...q.running, ...q.pending].some((p) => p.promptId === id)) {
      tracker.settle({ kind: 'error', error: new ComfyError('not-found', `the server no longer knows prompt ${id}: it was restarted or its queue was cleared`) });
    }
  }
}

/**
 * One test generation: connect the WebSocket first (so no message is missed), submit, follow
 * progress, fetch every output image through /view into outDir, and time each phase.
 * Failures come back as `ok: false` with a readable error; only bad parameters throw (ConfigError).
 */
export async function runGeneration(opts: RunGenerationOptions): Promise<GenerationResult> {
  const t0 = performance.now();
  const { client, signal } = opts;
  const runId = opts.runId ?? randomUUID();
  const params = withDefaultSeed(opts.workflow.graph, opts.params ?? {});
  const graph = applyParams(opts.workflow.graph, params);
  const emit = opts.onProgress ?? (() => undefined);
  const tracker = new PromptTracker(graph, runId, emit);
  const clientId = `comfy-panel-${runId}`;
  const images: string[] = [];
  let submittedAt: number | undefined;
  let downloadStart: number | undefined;
  let downloadEnd: number | undefined;
  let error: unknown;
  let watch: ReturnType<ComfyClient['watch']> | undefined;
  let stopWatchdog: NodeJS.Timeout | undefined;

  const checkAbort = () => {
    if (signal?.aborted) throw new Interrupted();
  };

  /** Interrupt on the server: drop it from the queue if it has not started, else stop it. */
  const cancel = async () => {
    const id = tracker.promptId;
    if (!id || tracker.settled) return;
    try {
      if (!tracker.started) {
        await client.deleteFromQueue([id]);
        const q = await client.queue();
        if (!q.running.some((r) => r.promptId === id)) return tracker.settle({ kind: 'interrupted' });
      }
      await client.interrupt(id);
    } catch (e) {
      return tracker.settle({ kind: 'error', error: e as Error });
    }
    // A server that never confirms must not hang the run.
    stopWatchdog = setTimeout(() => tracker.settle({ kind: 'interrupted' }), client.timeoutMs);
  };
  const onAbort = () => void cancel();

  try {
    checkAbort();
    if (opts.preflight !== false) await preflight(client, graph, opts.preflight || {});
    checkAbort();
    watch = client.watch(clientId, (m) => tracker.onMessage(m), {
      onState: (s) => {
        if (s.state === 'closed' && s.error) tracker.settle({ kind: 'error', error: s.error });
        if (s.state === 'open' && s.reconnected) void catchUp(client, tracker);
      },
    });
    await watch.ready;
    checkAbort();
    submittedAt = performance.now();
    const { promptId } = await client.submitPrompt(graph, clientId);
    tracker.setPromptId(promptId);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const maxWait = opts.maxWaitMs ?? 30 * 60_000;
    const limit = setTimeout(
      () => tracker.settle({ kind: 'error', error: new ComfyError('timeout', `the prompt did not finish within ${Math.round(maxWait / 1000)} s`) }),
      maxWait,
    );
    const outcome: PromptOutcome = await tracker.done.finally(() => clearTimeout(limit));
    if (outcome.kind === 'interrupted') throw new Interrupted();
    if (outcome.kind === 'error') throw outcome.error;

    downloadStart = performance.now();
    tracker.progress('downloading', {});
    const refs = await imagesOf(client, promptId, tracker.executedImages);
    if (refs.length) await mkdir(opts.outDir, { recursive: true });
    for (const ref of refs) images.push(await saveImage(client, opts.outDir, ref));
    downloadEnd = performance.now();
  } catch (e) {
    error = e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    clearTimeout(stopWatchdog);
    watch?.close();
  }

  const timings = timingsOf({ t0, submittedAt, startedAt: tracker.startedAt, endedAt: tracker.endedAt, downloadStart, downloadEnd, end: performance.now() });
  const result: GenerationResult = {
    ok: error === undefined,
    runId,
    workflow: opts.workflow.name,
    promptId: tracker.promptId,
    images,
    timings,
    cached: tracker.cached,
    ...(opts.client.tokenSource ? { tokenSource: opts.client.tokenSource } : {}),
  };
  if (error !== undefined) {
    result.error = error instanceof Interrupted ? 'interrupted by the operator' : errorMessage(error);
    result.errorKind =
      error instanceof Interrupted ? 'interrupted' : error instanceof ComfyError ? error.kind : error instanceof PanelError ? error.code : 'failed';
    tracker.progress('failed', { message: result.error });
  } else {
    tracker.progress('done', { message: `${images.length} image(s) saved` });
  }
  if (opts.historyFile) await appendRun(opts.historyFile, runRecord(result, params));
  return result;
}
