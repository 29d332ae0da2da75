import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import qwenEditGraph from '../../assets/workflows/qwen-image-edit-2509.json' with { type: 'json' };
import qwenGraph from '../../assets/workflows/qwen-image.json' with { type: 'json' };
import smokeGraph from '../../assets/workflows/smoke.json' with { type: 'json' };
import type { ApiGraph } from './shapes.js';
import type { RunParams } from '../contract/ops/generate.js';

export type WorkflowSource = BuiltinWorkflow | { file: string };

export interface Workflow {
  /** The built-in's name ("smoke", "qwen", "qwen-edit") or the file's path: what the run history shows. */
  name: string;
  graph: ApiGraph;
}

/** What a run may change in a graph (the contract's RunParams and the file prefix); each applies to the node found by its role. */
export interface GenerationParams extends RunParams {
  filenamePrefix?: string;
}

/** An input that holds a link: [source node id, output index]. */
const LinkSchema = z.tuple([z.union([z.string(), z.number()]), z.int().min(0)]);
type Link = [string | number, number];

const NodeSchema = z
  .object({
    class_type: z.string().min(1, 'class_type must name a node class'),
    inputs: z.record(z.string(), z.unknown()),
    _meta: z.looseObject({ title: z.string().optional() }).optional(),
  })
  .loose();
const GraphSchema = z.record(z.string().min(1), NodeSchema).refine((g) => Object.keys(g).length > 0, 'the workflow has no nodes');

function isLink(value: unknown): value is Link {
  return LinkSchema.safeParse(value).success;
}

/**
 * Checks that `json` is an API-format graph (what "Export (API)" saves) and that every link
 * points at a node that exists. Errors name the origin, the node id and the field.
 */
export function parseWorkflow(json: unknown, origin: string): ApiGraph {
  if (json && typeof json === 'object' && Array.isArray((json as { nodes?: unknown }).nodes)) {
    throw new ConfigError(
      `${origin}: this is a UI-format workflow (it has "nodes" and "links"), not the API format the server runs`,
      'In ComfyUI, use Workflow → Export (API) and pick that file',
    );
  }
  const parsed = GraphSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const [nodeId, ...field] = issue?.path ?? [];
    const where = nodeId === undefined ? '' : ` node ${String(nodeId)}${field.length ? ` field ${field.join('.')}` : ''}:`;
    throw new ConfigError(`${origin}:${where} ${issue?.message ?? 'not an API-format workflow'}`, 'An API-format workflow maps node ids to {"class_type", "inputs"}');
  }
  const graph = parsed.data as ApiGraph;
  for (const [id, node] of Object.entries(graph)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (isLink(value) && !(String(value[0]) in graph)) {
        throw new ConfigError(`${origin}: node ${id} (${node.class_type}) input "${input}" links to node ${String(value[0])}, which is not in the workflow`);
      }
    }
  }
  return graph;
}

/**
 * The built-in workflows: the smoke test (no models), Qwen-Image text-to-image, and
 * Qwen-Image-Edit-2509, which edits an image from ComfyUI's input folder (LoadImage: example.png).
 */
const builtins = { smoke: smokeGraph, qwen: qwenGraph, 'qwen-edit': qwenEditGraph } as const;
export type BuiltinWorkflow = keyof typeof builtins;
export const builtinWorkflows = Object.keys(builtins) as BuiltinWorkflow[];

/** A built-in workflow or an API-format JSON file the user picked; always a fresh copy. */
export async function loadWorkflow(source: WorkflowSource): Promise<Workflow> {
  if (typeof source === 'string') return { name: source, graph: parseWorkflow(structuredClone(builtins[source]), `built-in workflow ${source}`) };
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${source.file}: cannot read the workflow (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, and a mistaken pick may be a secret file: never echo it.
    throw new ConfigError(`${source.file}: not valid JSON`, 'Pick a workflow saved with Workflow → Export (API)');
  }
  return { name: source.file, graph: parseWorkflow(json, source.file) };
}

export const SAMPLER_CLASSES = ['KSampler', 'KSamplerAdvanced', 'SamplerCustom'] as const;

const label = (graph: ApiGraph, id: string) => `${graph[id]?.class_type ?? '?'} (node ${id})`;

/**
 * Walks links upstream from `from` (breadth first, through every linked input) to the first
 * node `match` accepts; `from` itself counts.
 */
function findUpstream(graph: ApiGraph, from: string, match: (id: string) => boolean): string | undefined {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (match(id)) return id;
    for (const v of Object.values(graph[id]?.inputs ?? {})) if (isLink(v)) queue.push(String(v[0]));
  }
  return undefined;
}

function linkedNode(graph: ApiGraph, id: string, input: string): string | undefined {
  const v = graph[id]?.inputs[input];
  return isLink(v) ? String(v[0]) : undefined;
}

const hasLiteral = (graph: ApiGraph, id: string, input: string, type: 'string' | 'number') => typeof graph[id]?.inputs[input] === type;

/** The text input of a prompt encoder: CLIPTextEncode has `text`, Qwen's edit encoders `prompt`. */
function textInput(graph: ApiGraph, id: string): string | undefined {
  return ['text', 'prompt'].find((k) => hasLiteral(graph, id, k, 'string'));
}

/**
 * A test generation without a chosen seed gets a fresh random one: re-running a workflow's
 * fixed seed would be served from ComfyUI's cache and time nothing.
 */
export function withDefaultSeed(graph: ApiGraph, params: GenerationParams): GenerationParams {
  return params.seed === undefined && primarySampler(graph) !== undefined ? { ...params, seed: randomInt(0, 2 ** 47) } : params;
}

/** The sampler the parameters drive: the one whose latent comes from an empty latent (the first pass). */
function primarySampler(graph: ApiGraph): string | undefined {
  const samplers = Object.keys(graph).filter((id) => (SAMPLER_CLASSES as readonly string[]).includes(graph[id]!.class_type));
  return samplers.find((id) => latentNode(graph, id) !== undefined) ?? samplers[0];
}

function latentNode(graph: ApiGraph, sampler: string): string | undefined {
  const start = linkedNode(graph, sampler, 'latent_image');
  return start && findUpstream(graph, start, (id) => hasLiteral(graph, id, 'width', 'number') && hasLiteral(graph, id, 'height', 'number'));
}

function encoderFor(graph: ApiGraph, sampler: string, input: 'positive' | 'negative'): string {
  const start = linkedNode(graph, sampler, input);
  const found = start && findUpstream(graph, start, (id) => textInput(graph, id) !== undefined);
  if (!found) throw new ConfigError(`${label(graph, sampler)}: its "${input}" input does not lead to a text encoder with a literal text, so the ${input} prompt cannot be set`);
  return found;
}

function set(graph: ApiGraph, id: string, input: string, value: unknown) {
  graph[id]!.inputs[input] = value;
}

/**
 * Applies run parameters by node role, never by id: the sampler, the text encoders its
 * positive/negative links lead to, its latent source for the size (EmptyImage when there is
 * no sampler, as in the smoke graph) and every SaveImage for the prefix. Returns a new graph.
 */
export function applyParams(input: ApiGraph, params: GenerationParams): ApiGraph {
  const graph = structuredClone(input);
  const sampler = primarySampler(graph);
  const needSampler = (param: string) => {
    if (!sampler) throw new ConfigError(`the workflow has no sampler (${SAMPLER_CLASSES.join(', ')}), so --${param} cannot be applied`);
    return sampler;
  };

  if (params.prompt !== undefined) {
    const enc = encoderFor(graph, needSampler('prompt'), 'positive');
    set(graph, enc, textInput(graph, enc)!, params.prompt);
  }
  if (params.negative !== undefined) {
    const s = needSampler('negative');
    const enc = encoderFor(graph, s, 'negative');
    if (enc === encoderFor(graph, s, 'positive')) {
      throw new ConfigError(`${label(graph, s)}: the negative conditioning is derived from the positive encoder ${label(graph, enc)}; it has no negative text to set`);
    }
    set(graph, enc, textInput(graph, enc)!, params.negative);
  }
  if (params.seed !== undefined) {
    const s = needSampler('seed');
    const key = ['seed', 'noise_seed'].find((k) => hasLiteral(graph, s, k, 'number'));
    if (!key) throw new ConfigError(`${label(graph, s)} has no literal seed or noise_seed input to set`);
    set(graph, s, key, params.seed);
  }
  if (params.steps !== undefined) {
    const s = needSampler('steps');
    const sigmas = linkedNode(graph, s, 'sigmas');
    const holder = hasLiteral(graph, s, 'steps', 'number') ? s : sigmas && findUpstream(graph, sigmas, (id) => hasLiteral(graph, id, 'steps', 'number'));
    if (!holder) throw new ConfigError(`${label(graph, s)}: no node holding a literal "steps" was found`);
    set(graph, holder, 'steps', params.steps);
  }
  if (params.width !== undefined || params.height !== undefined) {
    const targets = sampler
      ? [latentNode(graph, sampler)].filter((id): id is string => id !== undefined)
      : Object.keys(graph).filter((id) => graph[id]!.class_type === 'EmptyImage');
    if (!targets.length) throw new ConfigError('the workflow has no empty latent or EmptyImage node whose width/height could be set');
    for (const id of targets) {
      if (params.width !== undefined) set(graph, id, 'width', params.width);
      if (params.height !== undefined) set(graph, id, 'height', params.height);
    }
  }
  if (params.filenamePrefix !== undefined) {
    const saves = Object.keys(graph).filter((id) => graph[id]!.class_type === 'SaveImage');
    if (!saves.length) throw new ConfigError('the workflow has no SaveImage node, so a filename prefix cannot be set');
    for (const id of saves) set(graph, id, 'filename_prefix', params.filenamePrefix);
  }
  return graph;
}
