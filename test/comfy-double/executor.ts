import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { NodeException, runNode, type ImageRef, type NodeRegistry, type RunContext, type RunResult } from './nodes.js';
import { pyBool, PyFloat, pyRepr, type PyValue } from './pyjson.js';
import { isLink, validatePrompt, ValidationCrash, type Graph, type Validation } from './validate.js';

/** How the executor reaches WebSocket clients; sid undefined means every client. */
export interface Sender {
  send(event: string, data: Record<string, unknown>, sid: string | undefined): void;
  sendPreview(png: Buffer, sid: string | undefined, meta: { node_id: string; prompt_id: string }): void;
}

/** A queue entry as /queue and history show it: [number, prompt_id, prompt, extra_data, outputs]. */
type QueueItem = [number | PyFloat, string, Graph, Record<string, unknown>, string[]];

type Message = [string, Record<string, unknown>];

/** A progress_state entry; start_progress sets the floats 0.0/1.0, a cached output's fresh entry keeps the ints 0/1. */
interface Progress {
  value: number | PyFloat;
  max: number | PyFloat;
  state: 'running' | 'finished';
}

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
    const node = graph[id];
    // A link to a node that is not in the prompt (its output failed validation): uncacheable, like ComfyUI's NaN signature.
    if (!node || typeof node !== 'object') return `missing:${id}`;
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

/**
 * Dependencies first, outputs in the order validation accepted them. Like ComfyUI's
 * ExecutionList, an output is always staged but a cached upstream node is not even visited.
 */
function executionOrder(graph: Graph, outputs: string[], cached: (id: string) => boolean): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    for (const v of Object.values(graph[id]!.inputs ?? {})) if (isLink(v) && !cached(v[0])) visit(v[0]);
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
    private readonly nodes: NodeRegistry,
    private readonly samplerMs: number,
    private readonly sender: Sender,
    private readonly log: (line: string) => void,
  ) {}

  queueInfo() {
    return { exec_info: { queue_remaining: this.pending.length + (this.running ? 1 : 0) } };
  }

  queue() {
    return { queue_running: this.running ? [this.running] : [], queue_pending: [...this.pending].sort((a, b) => Number(a[0]) - Number(b[0])) };
  }

  private queueUpdated(): void {
    this.sender.send('status', { status: this.queueInfo() }, undefined);
  }

  /**
   * POST /prompt after JSON parsing, as PromptServer.post_prompt: the number is taken (and the
   * counter moves on) before anything is checked; validation errors answer 400.
   */
  submit(body: PyValue): { status: number; body: unknown } {
    this.log('got prompt');
    if (body === null || typeof body === 'number' || typeof body === 'bigint' || typeof body === 'boolean' || body instanceof PyFloat) {
      throw new ValidationCrash(`TypeError: argument of type '${body === null ? 'NoneType' : typeof body}' is not iterable`);
    }
    const json = (Array.isArray(body) || typeof body === 'string' ? {} : body) as Record<string, PyValue>;
    let number: number | PyFloat;
    if ('number' in json) {
      const n = json.number;
      const f = n instanceof PyFloat ? n.value : typeof n === 'string' && n.trim() !== '' ? Number(n) : typeof n === 'number' || typeof n === 'bigint' || typeof n === 'boolean' ? Number(n) : NaN;
      if (Number.isNaN(f) && !(n instanceof PyFloat)) throw new ValidationCrash(`ValueError: could not convert to float: ${pyRepr(n)}`);
      number = new PyFloat(f);
    } else {
      number = pyBool(json.front) ? -this.number : this.number;
      this.number++;
    }
    if (!('prompt' in json)) {
      return { status: 400, body: { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} } };
    }
    const graph = json.prompt;
    // ComfyUI takes str(prompt_id); numbers come out the same, objects as JSON rather than a Python repr.
    const id = 'prompt_id' in json ? (typeof json.prompt_id === 'string' ? json.prompt_id : JSON.stringify(json.prompt_id)) : randomUUID();
    const valid: Validation = validatePrompt(this.root, this.nodes, graph, this.log);
    const extra: Record<string, unknown> = { ...(json.extra_data as Record<string, unknown> | undefined) };
    if ('client_id' in json) extra.client_id = json.client_id;
    if (!valid.ok) {
      this.log(`invalid prompt: ${pyRepr(valid.error)}`);
      return { status: 400, body: { error: valid.error, node_errors: valid.nodeErrors } };
    }
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

  /** prompt_worker: take (status), execute, record history (status), then `executing null` to the client. */
  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let item = this.takeNext(); item; item = this.takeNext()) {
        const started = performance.now();
        const entry = await this.execute(item);
        this.history.set(item[1], entry);
        this.running = undefined;
        this.queueUpdated();
        const sid = item[3].client_id as string | undefined;
        if (sid !== undefined) this.sender.send('executing', { node: null, prompt_id: item[1] }, sid);
        this.log(`Prompt executed in ${((performance.now() - started) / 1000).toFixed(2)} seconds`);
      }
    } finally {
      this.working = false;
    }
  }

  private takeNext(): QueueItem | undefined {
    this.pending.sort((a, b) => Number(a[0]) - Number(b[0]));
    this.running = this.pending.shift();
    if (this.running) this.queueUpdated();
    return this.running;
  }

  /**
   * PromptExecutor.execute_async. Which messages reach whom follows ComfyUI: add_message events
   * only to the submitting client (none without client_id, except the broadcast interrupt);
   * executing/executed only with a client_id; progress_state always to everyone.
   */
  private async execute(item: QueueItem): Promise<HistoryEntry> {
    const [, promptId, graph, extra, outputs] = item;
    const sid = extra.client_id as string | undefined;
    const messages: Message[] = [];
    const addMessage = (event: string, data: Record<string, unknown>, broadcast: boolean) => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (sid !== undefined || broadcast) this.sender.send(event, stamped, sid);
    };
    const toClient = (event: string, data: Record<string, unknown>) => {
      if (sid !== undefined) this.sender.send(event, data, sid);
    };
    this.interruptFlag = false;
    addMessage('execution_start', { prompt_id: promptId }, false);
    const sigs = signatures(graph);
    // The classic cache keeps only entries this prompt can use.
    const wanted = new Set(sigs.values());
    for (const key of this.cache.keys()) if (!wanted.has(key)) this.cache.delete(key);
    const cachedAtStart = Object.keys(graph).filter((id) => this.cache.has(sigs.get(id)!));
    addMessage('execution_cached', { nodes: cachedAtStart, prompt_id: promptId }, false);

    const progress = new Map<string, Progress>();
    const setProgress = (id: string, p: Progress) => {
      progress.set(id, p);
      const nodes = Object.fromEntries([...progress].map(([n, q]) => [n, { ...q, node_id: n, prompt_id: promptId, display_node_id: n, parent_node_id: null, real_node_id: n }]));
      this.sender.send('progress_state', { prompt_id: promptId, nodes }, undefined);
    };
    const results = new Map<string, RunResult>();
    const ui: HistoryEntry['outputs'] = {};
    const executed: string[] = [];
    let current = '';
    let status: HistoryEntry['status']['status_str'] = 'success';
    try {
      const cachedOutput = (id: string) => this.cache.get(sigs.get(id)!);
      for (const id of executionOrder(graph, outputs, (id) => cachedOutput(id) !== undefined)) {
        current = id;
        const node = graph[id]!;
        const sig = sigs.get(id)!;
        const cached = cachedOutput(id);
        if (cached) {
          // Only an output node gets here cached: `executed` with its cached UI, and a progress entry created finished.
          if (cached.ui) ui[id] = cached.ui;
          toClient('executed', { node: id, display_node: id, output: cached.ui ?? null, prompt_id: promptId });
          setProgress(id, { value: 1, max: 1, state: 'finished' });
          continue;
        }
        setProgress(id, { value: new PyFloat(0), max: new PyFloat(1), state: 'running' });
        if (sid !== undefined) this.lastNode = { sid, node: id };
        toClient('executing', { node: id, display_node: id, prompt_id: promptId });
        if (this.interruptFlag) throw new Interrupted();
        const input = (v: unknown) => (isLink(v) ? (results.get(v[0]) ?? cachedOutput(v[0]))!.outputs[Number(v[1])] : v);
        const inputs = Object.fromEntries(Object.entries(node.inputs ?? {}).map(([k, v]) => [k, input(v)]));
        const ctx = this.runContext(graph, promptId, id, sid, (p) => setProgress(id, p));
        const result = await runNode(node.class_type as string, inputs, ctx);
        results.set(id, result);
        this.cache.set(sig, result);
        if (result.ui) {
          ui[id] = result.ui;
          toClient('executed', { node: id, display_node: id, output: result.ui, prompt_id: promptId });
        }
        const done = progress.get(id)!;
        setProgress(id, { value: done.max, max: done.max, state: 'finished' });
        executed.push(id);
      }
      addMessage('execution_success', { prompt_id: promptId }, false);
    } catch (e) {
      status = 'error';
      const nodeType = String(graph[current]?.class_type);
      if (e instanceof Interrupted) {
        this.log('Processing interrupted');
        addMessage('execution_interrupted', { prompt_id: promptId, node_id: current, node_type: nodeType, executed }, true);
      } else {
        addMessage('execution_error', this.errorReport(e, graph, promptId, current, executed, cachedAtStart), false);
      }
    }
    this.lastNode = undefined;
    const meta = Object.fromEntries(Object.keys(ui).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]));
    return { prompt: item, outputs: ui, status: { status_str: status, completed: status === 'success', messages }, meta };
  }

  /** The execution_error payload, logged the way ComfyUI logs a node exception. */
  private errorReport(e: unknown, graph: Graph, promptId: string, nodeId: string, executed: string[], currentOutputs: string[]): Record<string, unknown> {
    const nodeType = String(graph[nodeId]?.class_type);
    const type = e instanceof NodeException ? e.pyType : 'Exception';
    const message = (e as Error).message;
    const traceback = [
      `  File "${this.root}/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n`,
      `  File "${this.root}/nodes.py", line 1, in ${nodeType}\n`,
    ];
    this.log(`!!! Exception during processing !!! ${message}`);
    this.log(`Traceback (most recent call last):\n${traceback.join('')}${type}: ${message}`);
    const inputs = Object.entries(graph[nodeId]?.inputs ?? {}).map(([k, v]) => [k, [isLink(v) ? `<${k} from node ${v[0]}>` : v]]);
    return {
      prompt_id: promptId,
      node_id: nodeId,
      node_type: nodeType,
      executed,
      // ComfyUI appends an (here empty) tips line to the exception text.
      exception_message: `${message}\n`,
      exception_type: type,
      traceback,
      current_inputs: Object.fromEntries(inputs),
      current_outputs: currentOutputs,
    };
  }

  private runContext(graph: Graph, promptId: string, nodeId: string, sid: string | undefined, setProgress: (p: Progress) => void): RunContext {
    return {
      root: this.root,
      prompt: graph,
      // ComfyUI's progress hook: interrupt check, progress_state (+ metadata preview), progress, legacy preview.
      step: async (value, max, preview) => {
        await sleep(this.samplerMs / max);
        if (this.interruptFlag) throw new Interrupted();
        setProgress({ value, max, state: 'running' });
        this.sender.send('progress', { value, max, prompt_id: promptId, node: nodeId }, sid);
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
