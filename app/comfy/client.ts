import { z } from 'zod';
import { ComfyError, errorForNetwork, errorForStatus } from './errors.js';
import type { ComfyMessage } from './messages.js';
import { ImageRefSchema, type ApiGraph, type ImageRef } from './shapes.js';
import { openWatch, type ComfyWatch, type WatchOptions } from './socket.js';
import { deadline } from '../deadline.js';
import { eachChunk, readBody, responseBody, type BodyLimits } from './body.js';
import { probeGet, type ProbeAnswer } from './probe-get.js';

export { ComfyError, isComfyError, type ComfyErrorKind } from './errors.js';
export type { ApiGraph, ImageRef } from './shapes.js';
export type { ComfyMessage } from './messages.js';
export type { ComfyWatch, SocketState, WatchOptions } from './socket.js';

/** Where a client's token came from: the vault, an override for this run (COMFYUI_TOKEN), or none. */
export type TokenSource = 'vault' | 'override' | 'none';

export interface ComfyClientOptions {
  /** e.g. http://127.0.0.1:8188 (a trailing slash is ignored). */
  baseUrl: string;
  /** The bcrypt hash from login/PASSWORD; undefined when the server has no login node. */
  token?: string;
  tokenSource?: TokenSource;
  /** Deadline of each request, its whole body included. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Largest JSON answer read (default MAX_JSON_BYTES). */
  maxJsonBytes?: number;
  /** Largest image downloaded (default MAX_IMAGE_BYTES). */
  maxImageBytes?: number;
}

/** /object_info of a large install is a few MB; an answer past this comes from a broken or hostile server. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;
/** A 16k x 16k PNG stays under this. */
export const MAX_IMAGE_BYTES = 512 * 1024 * 1024;
/** /system_stats is a few KB (more with many GPUs); the probe reads its answer only to know it completed. */
export const MAX_PROBE_BYTES = 256 * 1024;

export interface ProbeResult {
  /** HTTP status, or null when no complete answer came in time (unreachable, timed out, cut off or too large). */
  status: number | null;
  latencyMs: number;
  /** Why the probe did not get a 200, in words an operator can act on; never contains the token. */
  error?: string;
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { Authorization: `Bearer ${token}` };
}

/** One GET /system_stats as asked: where (without its query), its answer (body complete) or why none came, and how long it took. */
export interface StatsAsked {
  url: string;
  answer?: ProbeAnswer;
  error?: unknown;
  latencyMs: number;
}

/**
 * GET /system_stats at `url` with these headers. An answer counts only once its body is
 * complete: a server that never ends it (or sends megabytes) is failing, whatever its status said.
 */
export async function askSystemStats(url: string, headers: Record<string, string>, timeoutMs: number): Promise<StatsAsked> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const answer = await probeGet(url, { headers, timeoutMs, body: { limit: MAX_PROBE_BYTES, what: 'GET /system_stats' } });
    return { url: url.split('?')[0]!, answer, latencyMs: elapsed() };
  } catch (error) {
    return { url: url.split('?')[0]!, error, latencyMs: elapsed() };
  }
}

/** The probe's verdict on an answer (`token`: whether one was sent). */
export function probeResultOf(asked: StatsAsked, token: boolean, timeoutMs: number): ProbeResult {
  const { answer, latencyMs } = asked;
  if (!answer) return { status: null, latencyMs, error: errorForNetwork(asked.error, asked.url, timeoutMs).message };
  if (answer.status === 200) return { status: 200, latencyMs };
  return { status: answer.status, latencyMs, error: errorForStatus(answer.status, answer.header('content-type') ?? '', 'GET /system_stats', token).message };
}

/**
 * GET /system_stats with the token: the one probe of "is ComfyUI up and does it take this token"
 * that health checks and token rotation share.
 */
export async function probeAuth(baseUrl: string, token: string | undefined, timeoutMs: number): Promise<ProbeResult> {
  return probeResultOf(await askSystemStats(`${trimBase(baseUrl)}/system_stats`, authHeaders(token), timeoutMs), token !== undefined, timeoutMs);
}

const SystemStatsSchema = z.looseObject({
  system: z.looseObject({
    os: z.string().optional(),
    comfyui_version: z.string().optional(),
    python_version: z.string().optional(),
    pytorch_version: z.string().optional(),
    ram_total: z.number().optional(),
    ram_free: z.number().optional(),
  }),
  devices: z.array(
    z.looseObject({
      name: z.string(),
      type: z.string(),
      index: z.number().nullable().optional(),
      vram_total: z.number().optional(),
      vram_free: z.number().optional(),
    }),
  ),
});
export type SystemStats = z.output<typeof SystemStatsSchema>;

/** The stats in an answer already asked (a sweep's), with the errors ComfyClient.systemStats() throws. */
export function systemStatsOf(asked: StatsAsked, token: boolean, timeoutMs: number): SystemStats {
  const { answer } = asked;
  if (!answer) throw errorForNetwork(asked.error, asked.url, timeoutMs);
  if (answer.status !== 200) throw errorForStatus(answer.status, answer.header('content-type') ?? '', 'GET /system_stats', token);
  return parseBody('GET /system_stats', answer.body.toString('utf8'), SystemStatsSchema);
}

/** A queue entry is [number, prompt_id, graph, extra, outputs]; only the first two matter here. */
const QueueEntrySchema = z.tuple([z.number(), z.string()], z.unknown()).transform(([number, promptId]) => ({ number, promptId }));
const QueueSchema = z.looseObject({ queue_running: z.array(QueueEntrySchema), queue_pending: z.array(QueueEntrySchema) });
export interface QueueView {
  running: { number: number; promptId: string }[];
  pending: { number: number; promptId: string }[];
}

/** Input specs are [type or list of choices, options?]; custom nodes vary, so anything else is kept as is. */
const NodeInfoSchema = z.looseObject({
  input: z
    .looseObject({
      required: z.record(z.string(), z.unknown()).optional(),
      optional: z.record(z.string(), z.unknown()).optional(),
    })
    .default({}),
  output_node: z.boolean().optional(),
  category: z.string().optional(),
});
// One odd custom node must not hide all the others: it is kept as a class without known inputs.
const ObjectInfoSchema = z.record(z.string(), NodeInfoSchema.catch({ input: {} }));
export type NodeInfo = z.output<typeof NodeInfoSchema>;
export type ObjectInfo = Record<string, NodeInfo>;

const SubmitOkSchema = z.looseObject({
  prompt_id: z.string().min(1),
  number: z.number().optional(),
  node_errors: z.record(z.string(), z.unknown()).default({}),
});
const NodeErrorSchema = z.looseObject({
  class_type: z.string().optional(),
  errors: z.array(z.looseObject({ message: z.string().optional(), details: z.string().optional() })).default([]),
});
const PromptErrorSchema = z.looseObject({
  error: z.union([z.looseObject({ type: z.string().optional(), message: z.string().optional(), details: z.string().optional() }), z.string()]),
  node_errors: z.record(z.string(), z.unknown()).optional(),
});
export interface SubmitResult {
  promptId: string;
  number?: number;
}

const HistoryEntrySchema = z.looseObject({
  outputs: z.record(z.string(), z.looseObject({ images: z.array(ImageRefSchema).optional() })).default({}),
  status: z
    .looseObject({ status_str: z.string().optional(), completed: z.boolean().optional(), messages: z.array(z.unknown()).optional() })
    .optional(),
});
export interface HistoryEntry {
  /** Images by output node id. */
  images: { node: string; image: ImageRef }[];
  status?: string;
  completed: boolean;
}

/** Readable text for ComfyUI's node_errors: "KSampler (node 3): Value not in list: ...". */
export function describeNodeErrors(nodeErrors: Record<string, unknown>, graph?: ApiGraph): string[] {
  return Object.entries(nodeErrors).map(([id, raw]) => {
    const parsed = NodeErrorSchema.safeParse(raw);
    const cls = (parsed.success ? parsed.data.class_type : undefined) ?? graph?.[id]?.class_type ?? 'node';
    const errs = parsed.success ? parsed.data.errors.map((e) => [e.message, e.details].filter(Boolean).join(': ')) : [];
    return `${cls} (node ${id}): ${errs.join('; ') || 'rejected'}`;
  });
}

function promptError(status: number, body: unknown, graph: ApiGraph): ComfyError {
  const parsed = PromptErrorSchema.safeParse(body);
  if (!parsed.success) return new ComfyError('http', `POST /prompt: HTTP ${status} with an unexpected body`, undefined, status);
  const { error, node_errors: nodeErrors = {} } = parsed.data;
  const type = typeof error === 'string' ? undefined : error.type;
  let message = typeof error === 'string' ? error : (error.message ?? type ?? 'rejected');
  // "Cannot execute because node X does not exist." names the class; add which ids use it.
  const missing = /node (.+?) does not exist/.exec(message)?.[1];
  if (missing) {
    const ids = Object.entries(graph).filter(([, n]) => n.class_type === missing).map(([id]) => id);
    if (ids.length) message += ` (used by node ${ids.join(', ')}; is its custom node installed?)`;
  }
  if (type === 'prompt_no_outputs') message += ' — the graph needs an output node such as SaveImage';
  const details = describeNodeErrors(nodeErrors, graph);
  const text = [`ComfyUI rejected the workflow (${type ?? `HTTP ${status}`}): ${message}`, ...details].join('\n  ');
  return new ComfyError('invalid-prompt', text, undefined, status);
}

/** HTTP + WebSocket client for one ComfyUI server behind ComfyUI-Login. */
export class ComfyClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Not secret: lets a run record say whose token was refused. */
  readonly tokenSource: TokenSource | undefined;
  /** Private so the token never lands in a log or a JSON dump of the client. */
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #maxJson: number;
  readonly #maxImage: number;

  constructor(opts: ComfyClientOptions) {
    this.baseUrl = trimBase(opts.baseUrl);
    this.timeoutMs = opts.timeoutMs;
    this.#token = opts.token;
    this.tokenSource = opts.tokenSource;
    this.#fetch = opts.fetch ?? fetch;
    this.#maxJson = opts.maxJsonBytes ?? MAX_JSON_BYTES;
    this.#maxImage = opts.maxImageBytes ?? MAX_IMAGE_BYTES;
  }

  /** The answer with its deadline (headers and body share it); a refusal is read (capped) and thrown as a typed error. */
  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const url = `${this.baseUrl}${path}`;
    const what = `${method} ${path.split('?')[0]}`;
    // The body is read after this returns: the deadline is cleared once the answer is read or refused.
    const { signal, clear } = deadline(this.timeoutMs);
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers: { ...authHeaders(this.#token), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal,
      });
    } catch (e) {
      clear();
      throw errorForNetwork(e, `${this.baseUrl}${path.split('?')[0]}`, this.timeoutMs);
    }
    const limits = (limit: number): BodyLimits => ({ what, limit, signal, timeoutMs: this.timeoutMs });
    const answer: Answer = {
      res,
      what,
      read: (limit = this.#maxJson) => readBody(responseBody(res), limits(limit)).finally(clear),
      stream: (limit, onChunk) => eachChunk(responseBody(res), limits(limit), onChunk).finally(clear),
    };
    if (res.ok) return answer;
    if (path === '/prompt' && res.status === 400) return answer;
    await answer.read(MAX_PROBE_BYTES).catch(() => undefined);
    throw errorForStatus(res.status, res.headers.get('content-type') ?? '', what, this.#token !== undefined);
  }

  async #json<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown, limit?: number): Promise<z.output<S>> {
    const answer = await this.#request(method, path, body);
    return parseBody(answer.what, (await answer.read(limit)).toString('utf8'), schema);
  }

  /** A few KB from ComfyUI: read no more than the probe does (health asks for it every sweep). */
  systemStats(): Promise<SystemStats> {
    return this.#json('GET', '/system_stats', SystemStatsSchema, undefined, Math.min(MAX_PROBE_BYTES, this.#maxJson));
  }

  async queue(): Promise<QueueView> {
    const q = await this.#json('GET', '/queue', QueueSchema);
    return { running: q.queue_running, pending: q.queue_pending };
  }

  /** All node classes, or one (`{}` when the server does not know it). */
  objectInfo(nodeClass?: string): Promise<ObjectInfo> {
    return this.#json('GET', nodeClass ? `/object_info/${encodeURIComponent(nodeClass)}` : '/object_info', ObjectInfoSchema);
  }

  /** The model folders the server knows, by folder_paths name (checkpoints, vae, diffusion_models, ...). */
  modelFolders(): Promise<string[]> {
    return this.#json('GET', '/models', z.array(z.string()));
  }

  /** The files of one model folder, named as its loaders' combo lists name them. */
  modelFiles(folder: string): Promise<string[]> {
    return this.#json('GET', `/models/${encodeURIComponent(folder)}`, z.array(z.string()));
  }

  /** Queues a graph; rejections (invalid_prompt, prompt_no_outputs, node_errors) become readable invalid-prompt errors. */
  async submitPrompt(graph: ApiGraph, clientId: string): Promise<SubmitResult> {
    const answer = await this.#request('POST', '/prompt', { prompt: graph, client_id: clientId });
    const text = (await answer.read()).toString('utf8');
    if (answer.res.status === 400) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw promptError(400, body, graph);
    }
    const ok = parseBody('POST /prompt', text, SubmitOkSchema);
    if (Object.keys(ok.node_errors).length) {
      throw new ComfyError('invalid-prompt', ['ComfyUI rejected some nodes:', ...describeNodeErrors(ok.node_errors, graph)].join('\n  '));
    }
    return { promptId: ok.prompt_id, number: ok.number };
  }

  /** The finished (or running) prompt's outputs; not-found when the server has no history for it. */
  async history(promptId: string): Promise<HistoryEntry> {
    const all = await this.#json('GET', `/history/${encodeURIComponent(promptId)}`, z.record(z.string(), z.unknown()));
    const raw = all[promptId];
    if (raw === undefined) throw new ComfyError('not-found', `GET /history: the server has no prompt ${promptId}`, 'It may have been cleared, or the server restarted');
    const parsed = HistoryEntrySchema.safeParse(raw);
    if (!parsed.success) throw badResponse('GET /history', parsed.error);
    const images = Object.entries(parsed.data.outputs).flatMap(([node, out]) => (out.images ?? []).map((image) => ({ node, image })));
    return { images, status: parsed.data.status?.status_str, completed: parsed.data.status?.completed ?? false };
  }

  /**
   * Streams one image (a reference from `executed` or history) into `write` chunk by chunk,
   * never whole in memory; fails past maxImageBytes. Resolves with the byte count.
   */
  async viewImage(ref: ImageRef, write: (chunk: Uint8Array) => Promise<unknown>): Promise<number> {
    const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    try {
      const answer = await this.#request('GET', `/view?${q.toString()}`);
      return await answer.stream(this.#maxImage, write);
    } catch (e) {
      if (e instanceof ComfyError && e.kind === 'not-found') {
        throw new ComfyError('not-found', `GET /view: no image ${ref.type}/${ref.subfolder ? `${ref.subfolder}/` : ''}${ref.filename} on the server`, undefined, 404);
      }
      throw e;
    }
  }

  /** Stops the running prompt (only that one when promptId is given). */
  async interrupt(promptId?: string): Promise<void> {
    await this.#drain(this.#request('POST', '/interrupt', promptId ? { prompt_id: promptId } : {}));
  }

  /** Removes prompts that have not started from the queue. */
  async deleteFromQueue(promptIds: string[]): Promise<void> {
    await this.#drain(this.#request('POST', '/queue', { delete: promptIds }));
  }

  async free(opts: { unload_models?: boolean; free_memory?: boolean }): Promise<void> {
    await this.#drain(this.#request('POST', '/free', opts));
  }

  async #drain(answer: Promise<Answer>): Promise<void> {
    await (await answer).read();
  }

  /**
   * Opens /ws?clientId=ID (token passed as `token=`) and hands every message, typed, to onMessage;
   * reconnects with backoff after a drop. Await `ready` before submitting a prompt.
   */
  watch(clientId: string, onMessage: (msg: ComfyMessage) => void, opts?: WatchOptions): ComfyWatch {
    const u = new URL(`${this.baseUrl}/ws`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('clientId', clientId);
    const displayUrl = u.toString();
    if (this.#token !== undefined) u.searchParams.set('token', this.#token);
    return openWatch({ url: u.toString(), displayUrl, timeoutMs: this.timeoutMs, hadToken: this.#token !== undefined }, onMessage, opts);
  }
}

function badResponse(what: string, err: z.ZodError): ComfyError {
  const first = err.issues[0];
  const where = first?.path.length ? ` at ${first.path.join('.')}` : '';
  return new ComfyError('bad-response', `${what}: the server's answer is not what ComfyUI sends (${first?.message ?? 'invalid'}${where})`, 'Is this URL really a ComfyUI server?');
}

function parseBody<S extends z.ZodType>(what: string, text: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ComfyError('bad-response', `${what}: the server's answer is not JSON`, 'Is this URL really a ComfyUI server?');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw badResponse(what, parsed.error);
  return parsed.data;
}

interface Answer {
  res: Response;
  what: string;
  /** The whole body, at most `limit` bytes (default: the JSON limit). */
  read(limit?: number): Promise<Buffer>;
  /** The body chunk by chunk, at most `limit` bytes; resolves with the byte count. */
  stream(limit: number, onChunk: (chunk: Uint8Array) => unknown): Promise<number>;
}

