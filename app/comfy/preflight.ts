import { PanelError } from '../errors.js';
import type { ComfyClient, NodeInfo, ObjectInfo } from './client.js';
import type { ApiGraph } from './shapes.js';

export interface PreflightProblem {
  node: string;
  classType: string;
  input?: string;
  message: string;
}

export interface PreflightOptions {
  /**
   * Optional check of a file inside the container, path relative to the ComfyUI root
   * (e.g. "models/vae/x.safetensors"); tells "not downloaded" from "present but not scanned".
   */
  fileExists?: (relativePath: string) => Promise<boolean>;
}

/** ComfyUI's model folder per loader class, then per input name (folder_paths names). */
const FOLDER_BY_CLASS: Record<string, string> = {
  UNETLoader: 'diffusion_models',
  CLIPLoader: 'text_encoders',
  DualCLIPLoader: 'text_encoders',
  TripleCLIPLoader: 'text_encoders',
  VAELoader: 'vae',
  CheckpointLoaderSimple: 'checkpoints',
  LoraLoader: 'loras',
  LoraLoaderModelOnly: 'loras',
  ControlNetLoader: 'controlnet',
  CLIPVisionLoader: 'clip_vision',
  UpscaleModelLoader: 'upscale_models',
};
const FOLDER_BY_INPUT: Record<string, string> = {
  unet_name: 'diffusion_models',
  clip_name: 'text_encoders',
  vae_name: 'vae',
  ckpt_name: 'checkpoints',
  lora_name: 'loras',
  control_net_name: 'controlnet',
  model_name: 'upscale_models',
};
const MODEL_FILE = /\.(safetensors|sft|ckpt|pt|pth|bin|gguf)$/i;
const MODEL_MENTION = /\.(safetensors|sft|ckpt|pt|pth|bin|gguf)\b/i;

interface InputSpec {
  choices?: unknown[];
  min?: number;
  max?: number;
  numeric: boolean;
}

/** Reads one /object_info input spec: [[choices...], opts] (classic), ["COMBO", {options}] or ["INT"|"FLOAT", {min, max}]. */
function readSpec(spec: readonly unknown[]): InputSpec {
  const [type, rawOpts] = spec;
  const opts = (rawOpts && typeof rawOpts === 'object' ? rawOpts : {}) as { options?: unknown; min?: unknown; max?: unknown };
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  if (Array.isArray(type)) return { choices: type, numeric: false };
  if (type === 'COMBO' && Array.isArray(opts.options)) return { choices: opts.options, numeric: false };
  return { numeric: type === 'INT' || type === 'FLOAT', min: num(opts.min), max: num(opts.max) };
}

function specsOf(info: NodeInfo): Record<string, readonly unknown[]> {
  const all = Object.entries({ ...info.input.optional, ...info.input.required });
  return Object.fromEntries(all.filter((e): e is [string, unknown[]] => Array.isArray(e[1])));
}

/** The combo inputs of a class and their choices, as the server lists them (either spelling). */
export function comboInputs(info: NodeInfo): [input: string, choices: unknown[]][] {
  return Object.entries(specsOf(info)).flatMap(([input, spec]) => {
    const { choices } = readSpec(spec);
    return choices ? [[input, choices] as [string, unknown[]]] : [];
  });
}

/**
 * The models/ folder (a folder_paths name) a loader input reads `value` from, by ComfyUI's own
 * loaders: /object_info never names the folder, so a server that lacks the file cannot say.
 */
export function knownModelFolder(classType: string, input: string, value: string): string | undefined {
  if (!MODEL_FILE.test(value)) return undefined;
  return FOLDER_BY_CLASS[classType] ?? FOLDER_BY_INPUT[input.replace(/\d+$/, '')];
}

async function checkInput(
  id: string,
  classType: string,
  input: string,
  value: unknown,
  spec: InputSpec,
  opts: PreflightOptions,
): Promise<PreflightProblem | undefined> {
  const problem = (message: string) => ({ node: id, classType, input, message });
  if (spec.choices && !spec.choices.includes(value)) {
    if (typeof value === 'string' && MODEL_FILE.test(value)) {
      const folder = knownModelFolder(classType, input, value) ?? '<model folder>';
      const where = `models/${folder}`;
      if (opts.fileExists && (await opts.fileExists(`${where}/${value}`))) {
        return problem(`${classType} (node ${id}) needs ${value}: it is in ${where} but the server does not list it; restart ComfyUI so it rescans the models`);
      }
      return problem(`${classType} (node ${id}) needs ${value} in ${where}`);
    }
    const shown = spec.choices.slice(0, 8).map(String).join(', ');
    return problem(`${classType} (node ${id}): ${input} ${JSON.stringify(value)} is not one of the server's choices (${shown}${spec.choices.length > 8 ? ', ...' : ''})`);
  }
  if (spec.numeric && typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) return problem(`${classType} (node ${id}): ${input} ${value} is below the minimum ${spec.min}`);
    if (spec.max !== undefined && value > spec.max) return problem(`${classType} (node ${id}): ${input} ${value} is above the maximum ${spec.max}`);
  }
  return undefined;
}

/**
 * What would make the server reject or fail this graph, found before submitting: node classes
 * the server lacks, model files it does not list, choices and numbers out of range.
 */
export async function preflightProblems(info: ObjectInfo, graph: ApiGraph, opts: PreflightOptions = {}): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  for (const [id, node] of Object.entries(graph)) {
    const nodeInfo = info[node.class_type];
    if (!nodeInfo) {
      problems.push({ node: id, classType: node.class_type, message: `${node.class_type} (node ${id}) is not a node class on this server; is its custom node installed?` });
      continue;
    }
    const specs = specsOf(nodeInfo);
    for (const [input, value] of Object.entries(node.inputs)) {
      const spec = specs[input];
      if (!spec || Array.isArray(value)) continue; // unknown extras are ignored by ComfyUI; arrays are links
      const p = await checkInput(id, node.class_type, input, value, readSpec(spec), opts);
      if (p) problems.push(p);
    }
  }
  return problems;
}

/** One model file a workflow loads, and the models/ folder ComfyUI reads it from. */
export interface WorkflowModel {
  file: string;
  folder: string;
  node: string;
  classType: string;
}

/** Every model file the graph's loaders name, with the folder it belongs in (what to download, and where). */
export function workflowModels(graph: ApiGraph): WorkflowModel[] {
  return Object.entries(graph).flatMap(([id, node]) =>
    Object.entries(node.inputs).flatMap(([input, value]) => {
      if (typeof value !== 'string') return [];
      const folder = knownModelFolder(node.class_type, input, value);
      return folder ? [{ file: value, folder: `models/${folder}`, node: id, classType: node.class_type }] : [];
    }),
  );
}

export class PreflightError extends PanelError {
  constructor(
    readonly problems: PreflightProblem[],
    /** The workflow's model files, all of them, so the fix says what this workflow needs in full. */
    readonly models: WorkflowModel[] = [],
  ) {
    const modelsMissing = problems.some((p) => MODEL_MENTION.test(p.message));
    super(
      `The workflow cannot run on this server:\n  ${problems.map((p) => p.message).join('\n  ')}`,
      'preflight',
      modelsMissing && models.length
        ? `This workflow needs ${models.map((m) => `${m.file} in ${m.folder}`).join(', ')} (the folders under the container's ComfyUI root); put the missing ones there, restart ComfyUI so it rescans, then try again`
        : 'Install the missing nodes or model files (or pick ones the server has), then try again',
    );
    this.name = 'PreflightError';
  }
}

/** Runs the preflight against the server's /object_info and throws one error naming every problem. */
export async function preflight(client: ComfyClient, graph: ApiGraph, opts: PreflightOptions = {}): Promise<void> {
  const problems = await preflightProblems(await client.objectInfo(), graph, opts);
  if (problems.length) throw new PreflightError(problems, workflowModels(graph));
}
