import type { GenerationProgress } from '../contract/ops/generate.js';
import { ComfyError } from './errors.js';
import type { ComfyMessage } from './messages.js';
import type { ApiGraph, ImageRef } from './shapes.js';
import { SAMPLER_CLASSES } from './workflow.js';

export type PromptOutcome =
  | { kind: 'success' }
  | { kind: 'error'; error: ComfyError | Error }
  | { kind: 'interrupted' };

/**
 * Follows one prompt through the /ws messages: which nodes ran or came from cache, sampler steps,
 * percent over the whole graph (never going back), the images `executed` reported, and the end.
 * Messages that arrive before the prompt id is known (the POST can lose the race) are buffered.
 */
export class PromptTracker {
  promptId: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  readonly cachedNodes = new Set<string>();
  readonly executedImages: ImageRef[] = [];
  readonly done: Promise<PromptOutcome>;
  #settle!: (o: PromptOutcome) => void;
  #settled = false;
  #buffer: ComfyMessage[] = [];
  #finished = new Set<string>();
  #current: string | undefined;
  #ranAny = false;
  #fraction = 0;
  #percent = 0;
  readonly #total: number;
  readonly #weights = new Map<string, number>();
  #grace: NodeJS.Timeout | undefined;

  constructor(
    private readonly graph: ApiGraph,
    private readonly runId: string,
    private readonly emit: (p: GenerationProgress) => void,
    /** How long to wait after execution_success for the end of the prompt. */
    private readonly graceMs = 2000,
  ) {
    const ids = Object.keys(graph);
    // Sampler steps are where the time goes: each sampler weighs as much as all other nodes together.
    const samplerWeight = Math.max(1, ids.length - 1);
    for (const id of ids) this.#weights.set(id, (SAMPLER_CLASSES as readonly string[]).includes(graph[id]!.class_type) ? samplerWeight : 1);
    this.#total = Math.max(1, [...this.#weights.values()].reduce((a, b) => a + b, 0));
    this.done = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get started(): boolean {
    return this.startedAt !== undefined;
  }

  /** True when nothing ran: every node came from ComfyUI's cache. */
  get cached(): boolean {
    return this.cachedNodes.size > 0 && !this.#ranAny;
  }

  get settled(): boolean {
    return this.#settled;
  }

  settle(outcome: PromptOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#grace);
    this.endedAt ??= performance.now();
    this.#settle(outcome);
  }

  setPromptId(id: string): void {
    this.promptId = id;
    this.progress('queued', {});
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const m of buffered) this.onMessage(m);
  }

  progress(phase: GenerationProgress['phase'], extra: Partial<GenerationProgress>): void {
    let done = 0;
    for (const id of this.#finished) done += this.#weights.get(id) ?? 0;
    const current = this.#current === undefined ? 0 : (this.#weights.get(this.#current) ?? 0) * this.#fraction;
    const raw = ((done + current) / this.#total) * 100;
    // Never go back, and keep 100 for the real end.
    this.#percent = Math.max(this.#percent, phase === 'done' ? 100 : Math.min(99, raw));
    this.emit({ runId: this.runId, promptId: this.promptId, phase, percent: Math.round(this.#percent * 10) / 10, ...extra });
  }

  #finishCurrent(): void {
    if (this.#current !== undefined) this.#finished.add(this.#current);
    this.#current = undefined;
    this.#fraction = 0;
  }

  #nodeExtra(node: string | undefined): Partial<GenerationProgress> {
    return node === undefined ? {} : { node, nodeClass: this.graph[node]?.class_type };
  }

  onMessage(msg: ComfyMessage): void {
    if (this.#settled) return;
    if (!('promptId' in msg)) return;
    if (this.promptId === undefined) {
      this.#buffer.push(msg);
      return;
    }
    // progress may lack prompt_id on older servers: it belongs to whatever is executing.
    if (msg.promptId !== undefined && msg.promptId !== this.promptId) return;
    if (msg.promptId === undefined && msg.type !== 'progress') return;
    if (msg.promptId === undefined && this.#current === undefined) return;

    switch (msg.type) {
      case 'execution_start':
        this.startedAt ??= performance.now();
        this.progress('running', {});
        break;
      case 'execution_cached':
        this.startedAt ??= performance.now();
        for (const n of msg.nodes) {
          this.cachedNodes.add(n);
          this.#finished.add(n);
        }
        if (msg.nodes.length) this.progress('running', { message: `${msg.nodes.length} node(s) from cache` });
        break;
      case 'executing':
        this.#finishCurrent();
        if (msg.node === null) return this.settle({ kind: 'success' });
        this.startedAt ??= performance.now();
        this.#current = msg.node;
        this.#ranAny = true;
        this.progress('running', this.#nodeExtra(msg.node));
        break;
      case 'progress': {
        if (msg.max <= 0) break;
        this.#fraction = Math.min(1, Math.max(0, msg.value / msg.max));
        const node = msg.node ?? this.#current;
        this.progress('running', { ...this.#nodeExtra(node), step: { value: msg.value, max: msg.max } });
        break;
      }
      case 'progress_state':
        for (const [n, s] of Object.entries(msg.nodes)) if (s.state === 'finished') this.#finished.add(n);
        break;
      case 'executed':
        this.#finished.add(msg.node);
        this.executedImages.push(...msg.images);
        break;
      case 'execution_success':
        // ComfyUI writes the history between this and `executing {node: null}`: wait for the
        // latter, but not forever on a server that never sends it.
        this.#finishCurrent();
        this.endedAt ??= performance.now();
        this.#grace ??= setTimeout(() => this.settle({ kind: 'success' }), this.graceMs);
        break;
      case 'execution_error': {
        const where = msg.node ? ` in ${msg.nodeType ?? 'node'} (node ${msg.node})` : '';
        const what = [msg.exceptionType, msg.exceptionMessage.trim()].filter(Boolean).join(': ');
        this.settle({ kind: 'error', error: new ComfyError('execution', `ComfyUI failed while running the workflow${where}: ${what || 'no details'}`) });
        break;
      }
      case 'execution_interrupted':
        this.settle({ kind: 'interrupted' });
        break;
    }
  }
}
