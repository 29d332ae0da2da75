import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { NODE_CLASSES, NodeException, type ImageRef, type RunContext, type RunResult } from './nodes.js';
import { isLink, validatePrompt, type Graph, type Validation } from './validate.js';

/** How the executor reaches WebSocket clients; sid undefined means every client. */
export interface Sender {
  send(event: string, data: Record<string, unknown>, sid: string | undefined): void;
  sendPreview(png: Buffer, sid: string | undefined, meta: { node_id: string; prompt_id: string }): void;
}

/** A queue entry as /queue and history show it: [number, prompt_id, prompt, extra_data, outputs]. */
type QueueItem = [number, string, Graph, Record<string, unknown>, string[]];

type Message = [string, Record<string, unknown>];

interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, { images: ImageRef[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Message[] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

class Interrupted extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cache key of a node: its class and inputs with links replaced by the upstream key, like ComfyUI's signatures. */
function signatures(graph: Graph): Map<string, string> {
  const sigs = new Map<string, string>();
  const sig = (id: string): string => {
    const known = sigs.get(id);
    if (known) return known;
    const node = graph[id]!;
    const inputs = Object.entries(node.inputs ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, isLink(v) ? [sig(v[0]), v[1]] : v]);
    const s = JSON.stringify([node.class_type, inputs]);
    sigs.set(id, s);
    return s;
  };
  for (const id of Object.keys(graph)) sig(id);
  return sigs;
}

/** Dependencies first, outputs in the order validation accepted them. */
function executionOrder(graph: Graph, outputs: string[]): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    for (const v of Object.values(graph[id]!.inputs ?? {})) if (isLink(v)) visit(v[0]);
    order.push(id);
  };
  outputs.forEach(visit);
  return order;
}

/**
 * ComfyUI's PromptQueue + PromptExecutor: one prompt at a time, the "classic" cache that keeps
 * the previous prompt's node outputs, history, and the WebSocket messages in ComfyUI's order.
 */
export class Executor {
  private readonly pending: QueueItem[] = [];
  private running: QueueItem | undefined;
  private readonly history = new Map<string, HistoryEntry>();
  private cache = new Map<string, RunResult>();
  private number = 0;
  private interruptFlag = false;
  private working = false;
  /** The node now executing and the client it reports to: a reconnecting client is told. */
  lastNode: { sid: string | undefined; node: string } | undefined;

  constructor(
    private readonly root: string,
    private readonly samplerMs: number,
    private readonly sender: Sender,
    private readonly log: (line: string) => void,
  ) {}

  queueInfo() {
    return { exec_info: { queue_remaining: this.pending.length + (this.running ? 1 : 0) } };
  }

  queue() {
    return { queue_running: this.running ? [this.running] : [], queue_pending: [...this.pending].sort((a, b) => a[0] - b[0]) };
  }

  private queueUpdated(): void {
    this.sender.send('status', { status: this.queueInfo() }, undefined);
  }

  /** POST /prompt after JSON parsing: validates, queues, and answers like ComfyUI. */
  submit(body: Record<string, unknown>): { status: number; body: unknown } {
    this.log('got prompt');
    const graph = body.prompt;
    if (graph === undefined || graph === null || typeof graph !== 'object') {
      return { status: 400, body: { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} } };
    }
    const number = typeof body.number === 'number' ? body.number : body.front ? -this.number++ : this.number++;
    const valid: Validation = validatePrompt(this.root, graph as Graph, this.log);
    if (!valid.ok) {
      this.log(`invalid prompt: ${valid.error.message}`);
      return { status: 400, body: { error: valid.error, node_errors: valid.nodeErrors } };
    }
    const id = typeof body.prompt_id === 'string' ? body.prompt_id : randomUUID();
    const extra: Record<string, unknown> = { ...(body.extra_data as Record<string, unknown> | undefined) };
    if ('client_id' in body) extra.client_id = body.client_id;
    this.pending.push([number, id, graph as Graph, extra, valid.outputs]);
    this.queueUpdated();
    setImmediate(() => void this.work());
    return { status: 200, body: { prompt_id: id, number, node_errors: valid.nodeErrors } };
  }

  /** POST /interrupt: global, or only if the given prompt is the one running. */
  interrupt(promptId: string | undefined): void {
    if (!promptId) {
      this.log('Global interrupt (no prompt_id specified)');
      this.interruptFlag = true;
    } else if (this.running?.[1] === promptId) {
      this.log(`Interrupting prompt ${promptId}`);
      this.interruptFlag = true;
    } else {
      this.log(`Prompt ${promptId} is not currently running, skipping interrupt`);
    }
  }

  /** Shutting down: drops the queue and stops a running sampler at its next step. */
  stop(): void {
    this.pending.length = 0;
    this.interruptFlag = true;
  }

  /** POST /free with free_memory: drops cached node outputs. */
  freeMemory(): void {
    this.cache.clear();
  }

  /** POST /queue {clear, delete}. */
  editQueue(body: { clear?: unknown; delete?: unknown }): void {
    if (body.clear) this.pending.length = 0;
    if (Array.isArray(body.delete)) {
      const doomed = new Set(body.delete.map(String));
      this.pending.splice(0, this.pending.length, ...this.pending.filter((p) => !doomed.has(p[1])));
    }
    this.queueUpdated();
  }

  /** POST /history {clear, delete}. */
  editHistory(body: { clear?: unknown; delete?: unknown }): void {
    if (body.clear) this.history.clear();
    if (Array.isArray(body.delete)) for (const id of body.delete) this.history.delete(String(id));
  }

  getHistory(id?: string, maxItems?: number): Record<string, HistoryEntry> {
    if (id !== undefined) {
      const h = this.history.get(id);
      return h ? { [id]: h } : {};
    }
    const all = [...this.history];
    return Object.fromEntries(maxItems === undefined ? all : all.slice(Math.max(0, all.length - maxItems)));
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let item = this.pending.sort((a, b) => a[0] - b[0]).shift(); item; item = this.pending.shift()) {
        this.running = item;
        const started = performance.now();
        const entry = await this.execute(item);
        this.history.set(item[1], entry);
        this.running = undefined;
        this.lastNode = undefined;
        this.queueUpdated();
        const sid = item[3].client_id as string | undefined;
        if (sid !== undefined) this.sender.send('executing', { node: null, prompt_id: item[1] }, sid);
        this.log(`Prompt executed in ${((performance.now() - started) / 1000).toFixed(2)} seconds`);
      }
    } finally {
      this.working = false;
    }
  }

  private async execute(item: QueueItem): Promise<HistoryEntry> {
    const [, promptId, graph, extra, outputs] = item;
    const sid = extra.client_id as string | undefined;
    const messages: Message[] = [];
    // ComfyUI's add_message: recorded in history; sent only to the submitting client unless broadcast.
    const addMessage = (event: string, data: Record<string, unknown>, broadcast: boolean) => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (sid !== undefined || broadcast) this.sender.send(event, stamped, sid);
    };
    this.interruptFlag = false;
    addMessage('execution_start', { prompt_id: promptId }, false);
    const sigs = signatures(graph);
    addMessage('execution_cached', { nodes: Object.keys(graph).filter((id) => this.cache.has(sigs.get(id)!)), prompt_id: promptId }, false);

    const progress = new Map<string, { value: number; max: number; state: 'running' | 'finished' }>();
    const sendProgressState = () => {
      const nodes = Object.fromEntries(
        [...progress].map(([id, p]) => [id, { ...p, node_id: id, prompt_id: promptId, display_node_id: id, parent_node_id: null, real_node_id: id }]),
      );
      this.sender.send('progress_state', { prompt_id: promptId, nodes }, sid);
    };
    const results = new Map<string, RunResult>();
    const ui: HistoryEntry['outputs'] = {};
    const executed: string[] = [];
    const nextCache = new Map<string, RunResult>();
    let current = '';
    let status: HistoryEntry['status']['status_str'] = 'success';
    try {
      for (const id of executionOrder(graph, outputs)) {
        current = id;
        const node = graph[id]!;
        const cls = NODE_CLASSES[node.class_type as string]!;
        const sig = sigs.get(id)!;
        const cached = this.cache.get(sig);
        if (cached) {
          results.set(id, cached);
          nextCache.set(sig, cached);
          if (cached.ui) {
            ui[id] = cached.ui;
            if (sid !== undefined) this.sender.send('executed', { node: id, display_node: id, output: cached.ui, prompt_id: promptId }, sid);
          }
          progress.set(id, { value: 1, max: 1, state: 'finished' });
          sendProgressState();
          continue;
        }
        progress.set(id, { value: 0, max: 1, state: 'running' });
        sendProgressState();
        this.lastNode = { sid, node: id };
        this.sender.send('executing', { node: id, display_node: id, prompt_id: promptId }, sid);
        if (this.interruptFlag) throw new Interrupted();
        const inputs = Object.fromEntries(Object.entries(node.inputs ?? {}).map(([k, v]) => [k, isLink(v) ? results.get(v[0])!.outputs[v[1]] : v]));
        const result = await cls.run(inputs, this.runContext(graph, promptId, id, sid, progress, sendProgressState));
        results.set(id, result);
        nextCache.set(sig, result);
        executed.push(id);
        if (result.ui) {
          ui[id] = result.ui;
          this.sender.send('executed', { node: id, display_node: id, output: result.ui, prompt_id: promptId }, sid);
        }
        progress.set(id, { value: 1, max: 1, state: 'finished' });
        sendProgressState();
      }
      addMessage('execution_success', { prompt_id: promptId }, false);
    } catch (e) {
      status = 'error';
      const nodeType = String(graph[current]?.class_type);
      if (e instanceof Interrupted) {
        this.log('Processing interrupted');
        addMessage('execution_interrupted', { prompt_id: promptId, node_id: current, node_type: nodeType, executed }, true);
      } else {
        const type = e instanceof NodeException ? e.pyType : 'Exception';
        const message = (e as Error).message;
        const traceback = [
          '  File "/workspace/ComfyUI/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
          `  File "/workspace/ComfyUI/nodes.py", line 1, in ${nodeType}\n`,
        ];
        this.log(`!!! Exception during processing !!! ${message}`);
        this.log(`Traceback (most recent call last):\n${traceback.join('')}${type}: ${message}`);
        const currentInputs = Object.fromEntries(Object.entries(graph[current]?.inputs ?? {}).filter(([, v]) => !isLink(v)).map(([k, v]) => [k, [v]]));
        addMessage(
          'execution_error',
          { prompt_id: promptId, node_id: current, node_type: nodeType, executed, exception_message: message, exception_type: type, traceback, current_inputs: currentInputs, current_outputs: [...results.keys()] },
          false,
        );
      }
    }
    // The classic cache keeps what this prompt produced and forgets the rest.
    this.cache = nextCache;
    const meta = Object.fromEntries(Object.keys(ui).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]));
    return { prompt: item, outputs: ui, status: { status_str: status, completed: status === 'success', messages }, meta };
  }

  private runContext(
    graph: Graph,
    promptId: string,
    nodeId: string,
    sid: string | undefined,
    progress: Map<string, { value: number; max: number; state: 'running' | 'finished' }>,
    sendProgressState: () => void,
  ): RunContext {
    return {
      root: this.root,
      prompt: graph,
      step: async (value, max, preview) => {
        await sleep(this.samplerMs / max);
        if (this.interruptFlag) throw new Interrupted();
        this.sender.send('progress', { value, max, prompt_id: promptId, node: nodeId }, sid);
        progress.set(nodeId, { value, max, state: 'running' });
        sendProgressState();
        this.sender.sendPreview(preview, sid, { node_id: nodeId, prompt_id: promptId });
      },
      saveImage: (prefix, png, count) => this.saveImages(prefix, png, count),
    };
  }

  /** SaveImage's get_save_image_path: `<prefix>_<counter:05>_.png`, counter = highest existing + 1. */
  private saveImages(prefix: string, png: (index: number) => Buffer, count: number): ImageRef[] {
    const outputDir = resolve(this.root, 'output');
    const folder = resolve(outputDir, dirname(prefix));
    if (relative(outputDir, folder).startsWith('..')) {
      throw new NodeException('Exception', `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${folder}\n         output_dir: ${outputDir}`);
    }
    const name = basename(prefix);
    if (!existsSync(folder)) mkdirSync(folder, { recursive: true });
    let counter = 1;
    for (const f of readdirSync(folder)) {
      if (f.slice(0, name.length + 1) !== `${name}_`) continue;
      const digits = Number.parseInt(f.slice(name.length + 1).split('_')[0] ?? '', 10);
      if (Number.isInteger(digits) && digits >= counter) counter = digits + 1;
    }
    const subfolder = relative(outputDir, folder).split('\\').join('/');
    return Array.from({ length: count }, (_, i) => {
      const filename = `${name.replace('%batch_num%', String(i))}_${String(counter + i).padStart(5, '0')}_.png`;
      writeFileSync(join(folder, filename), png(i));
      return { filename, subfolder, type: 'output' as const };
    });
  }
}
