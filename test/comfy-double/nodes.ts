import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { solidPng } from './png.js';

/** An input spec as /object_info shows it: [type or combo list, options]. */
export type InputSpec = [string | string[], Record<string, unknown>?];

export interface ImageRef {
  filename: string;
  subfolder: string;
  type: 'output';
}

/** What a node's run gets besides its inputs: the ComfyUI root and the sampler hooks. */
export interface RunContext {
  root: string;
  prompt: unknown;
  /** Reports a sampler step (progress message + preview frame), waits its share of samplerMs, honours interrupts. */
  step(value: number, max: number, preview: Buffer): Promise<void>;
  saveImage(prefix: string, png: (index: number) => Buffer, count: number): ImageRef[];
}

export interface RunResult {
  outputs: unknown[];
  ui?: { images: ImageRef[] };
}

/** A Python exception a node raised: becomes execution_error with this type and message. */
export class NodeException extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
  }
}

export interface NodeClass {
  display_name: string;
  category: string;
  description: string;
  python_module: string;
  output: string[];
  output_name: string[];
  output_node: boolean;
  /** Inputs; a function because combo lists (model files) are read from disk on each request. */
  inputs(root: string): { required: Record<string, InputSpec>; optional?: Record<string, InputSpec>; hidden?: Record<string, string> };
  run(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult>;
}

const MODEL_EXTENSIONS = new Set(['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft']);

/** ComfyUI's folder_paths: each model kind and the folders it is read from (first wins). */
export const MODEL_FOLDERS = {
  diffusion_models: ['unet', 'diffusion_models'],
  text_encoders: ['text_encoders', 'clip'],
  vae: ['vae'],
} as const;
type ModelKind = keyof typeof MODEL_FOLDERS;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && MODEL_EXTENSIONS.has(e.name.slice(e.name.lastIndexOf('.'))))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** folder_paths.get_filename_list: model files under dir/models/<folder>/, sorted, '/'-separated. */
export function modelFiles(root: string, kind: ModelKind): string[] {
  return [...new Set(MODEL_FOLDERS[kind].flatMap((f) => walk(join(root, 'models', f))))].sort();
}

function modelPath(root: string, kind: ModelKind, name: string): string {
  const hit = MODEL_FOLDERS[kind].map((f) => join(root, 'models', f, name)).find((p) => existsSync(p));
  return hit ?? join(root, 'models', MODEL_FOLDERS[kind][0], name);
}

/** Loads a model file as far as a double can: a missing or header-less safetensors fails like the real loader. */
function loadModel(root: string, kind: ModelKind, name: string): { name: string } {
  const path = modelPath(root, kind, name);
  if (!existsSync(path)) throw new NodeException('FileNotFoundError', `[Errno 2] No such file or directory: '${path}'`);
  if (statSync(path).size < 8) throw new NodeException('safetensors_rust.SafetensorError', 'Error while deserializing header: HeaderTooSmall');
  return { name };
}

const INT = (def: number, min: number, max: number, extra: Record<string, unknown> = {}): InputSpec => ['INT', { default: def, min, max, ...extra }];
const FLOAT = (def: number, min: number, max: number, step: number): InputSpec => ['FLOAT', { default: def, min, max, step, round: 0.01 }];
const MAX_RESOLUTION = 16384;

export const SAMPLERS = ['euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpm_fast', 'dpm_adaptive', 'dpmpp_2s_ancestral', 'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m', 'dpmpp_2m_cfg_pp', 'dpmpp_2m_sde', 'dpmpp_2m_sde_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm', 'ipndm', 'ipndm_v', 'deis', 'res_multistep', 'res_multistep_cfg_pp', 'res_multistep_ancestral', 'res_multistep_ancestral_cfg_pp', 'gradient_estimation', 'er_sde', 'seeds_2', 'seeds_3', 'sa_solver', 'sa_solver_pece', 'ddim', 'uni_pc', 'uni_pc_bh2'];
export const SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];
const CLIP_TYPES = ['stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image', 'hunyuan_image'];

interface Image {
  width: number;
  height: number;
  color: number;
  batch: number;
}
interface Latent {
  width: number;
  height: number;
  batch: number;
  seed?: number;
}

function scaleColor(color: number, f: number): number {
  return [16, 8, 0].reduce((acc, shift) => acc | (Math.round(((color >> shift) & 0xff) * f) << shift), 0);
}

const base = { description: '', python_module: 'nodes', output_node: false };

/** A deterministic "generated" colour from the sampler seed, so different seeds give different images. */
function seedColor(seed: number): number {
  return (Math.imul(seed >>> 0 || 1, 2654435761) >>> 8) & 0xffffff;
}

export const NODE_CLASSES: Record<string, NodeClass> = {
  EmptyImage: {
    ...base,
    display_name: 'EmptyImage',
    category: 'image',
    output: ['IMAGE'],
    output_name: ['IMAGE'],
    inputs: () => ({
      required: {
        width: INT(512, 1, MAX_RESOLUTION, { step: 1 }),
        height: INT(512, 1, MAX_RESOLUTION, { step: 1 }),
        batch_size: INT(1, 1, 4096),
        color: INT(0, 0, 0xffffff, { step: 1, display: 'color' }),
      },
    }),
    run: async (i) => ({ outputs: [{ width: Number(i.width), height: Number(i.height), color: Number(i.color), batch: Number(i.batch_size) } satisfies Image] }),
  },
  SaveImage: {
    ...base,
    display_name: 'Save Image',
    category: 'image',
    description: 'Saves the input images to your ComfyUI output directory.',
    output: [],
    output_name: [],
    output_node: true,
    inputs: () => ({
      required: {
        images: ['IMAGE', { tooltip: 'The images to save.' }],
        filename_prefix: ['STRING', { default: 'ComfyUI', tooltip: 'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.' }],
      },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
    }),
    run: async (i, ctx) => {
      const img = i.images as Image;
      const meta = { prompt: JSON.stringify(ctx.prompt) };
      const images = ctx.saveImage(String(i.filename_prefix), () => solidPng(img.width, img.height, img.color, meta), img.batch);
      return { outputs: [], ui: { images } };
    },
  },
  UNETLoader: {
    ...base,
    display_name: 'Load Diffusion Model',
    category: 'advanced/loaders',
    output: ['MODEL'],
    output_name: ['MODEL'],
    inputs: (root) => ({ required: { unet_name: [modelFiles(root, 'diffusion_models')], weight_dtype: [['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2']] } }),
    run: async (i, ctx) => ({ outputs: [loadModel(ctx.root, 'diffusion_models', String(i.unet_name))] }),
  },
  CLIPLoader: {
    ...base,
    display_name: 'Load CLIP',
    category: 'advanced/loaders',
    description: '[Recipes]\n\nstable_diffusion: clip-l\nqwen_image: qwen 2.5 vl 7b',
    output: ['CLIP'],
    output_name: ['CLIP'],
    inputs: (root) => ({ required: { clip_name: [modelFiles(root, 'text_encoders')], type: [CLIP_TYPES] }, optional: { device: [['default', 'cpu'], { advanced: true }] } }),
    run: async (i, ctx) => ({ outputs: [loadModel(ctx.root, 'text_encoders', String(i.clip_name))] }),
  },
  VAELoader: {
    ...base,
    display_name: 'Load VAE',
    category: 'loaders',
    output: ['VAE'],
    output_name: ['VAE'],
    inputs: (root) => ({ required: { vae_name: [modelFiles(root, 'vae')] } }),
    run: async (i, ctx) => ({ outputs: [loadModel(ctx.root, 'vae', String(i.vae_name))] }),
  },
  EmptySD3LatentImage: {
    ...base,
    display_name: 'EmptySD3LatentImage',
    category: 'latent/sd3',
    python_module: 'comfy_extras.nodes_sd3',
    output: ['LATENT'],
    output_name: ['LATENT'],
    inputs: () => ({ required: { width: INT(1024, 16, MAX_RESOLUTION, { step: 16 }), height: INT(1024, 16, MAX_RESOLUTION, { step: 16 }), batch_size: INT(1, 1, 4096) } }),
    run: async (i) => ({ outputs: [{ width: Number(i.width), height: Number(i.height), batch: Number(i.batch_size) } satisfies Latent] }),
  },
  CLIPTextEncode: {
    ...base,
    display_name: 'CLIP Text Encode (Prompt)',
    category: 'conditioning',
    description: 'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
    output: ['CONDITIONING'],
    output_name: ['CONDITIONING'],
    inputs: () => ({ required: { text: ['STRING', { multiline: true, dynamicPrompts: true }], clip: ['CLIP'] } }),
    run: async (i) => ({ outputs: [{ text: i.text }] }),
  },
  ModelSamplingAuraFlow: {
    ...base,
    display_name: 'ModelSamplingAuraFlow',
    category: 'advanced/model',
    python_module: 'comfy_extras.nodes_model_advanced',
    output: ['MODEL'],
    output_name: ['MODEL'],
    inputs: () => ({ required: { model: ['MODEL'], shift: FLOAT(1.73, 0, 100, 0.01) } }),
    run: async (i) => ({ outputs: [i.model] }),
  },
  KSampler: {
    ...base,
    display_name: 'KSampler',
    category: 'sampling',
    description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
    output: ['LATENT'],
    output_name: ['LATENT'],
    inputs: () => ({
      required: {
        model: ['MODEL'],
        seed: INT(0, 0, Number.MAX_SAFE_INTEGER, { control_after_generate: true }),
        steps: INT(20, 1, 10000),
        cfg: FLOAT(8, 0, 100, 0.1),
        sampler_name: [SAMPLERS],
        scheduler: [SCHEDULERS],
        positive: ['CONDITIONING'],
        negative: ['CONDITIONING'],
        latent_image: ['LATENT'],
        denoise: FLOAT(1, 0, 1, 0.01),
      },
    }),
    run: async (i, ctx) => {
      const latent = i.latent_image as Latent;
      const steps = Number(i.steps);
      const color = seedColor(Number(i.seed));
      for (let s = 1; s <= steps; s++) {
        // The preview brightens to the final colour as denoising proceeds, like a TAESD preview would.
        await ctx.step(s, steps, solidPng(Math.max(1, latent.width >> 3), Math.max(1, latent.height >> 3), scaleColor(color, s / steps)));
      }
      return { outputs: [{ ...latent, seed: Number(i.seed) } satisfies Latent] };
    },
  },
  VAEDecode: {
    ...base,
    display_name: 'VAE Decode',
    category: 'latent',
    description: 'Decodes latent images back into pixel space images.',
    output: ['IMAGE'],
    output_name: ['IMAGE'],
    inputs: () => ({ required: { samples: ['LATENT', { tooltip: 'The latent to be decoded.' }], vae: ['VAE', { tooltip: 'The VAE model used for decoding the latent.' }] } }),
    run: async (i) => {
      const l = i.samples as Latent;
      return { outputs: [{ width: l.width, height: l.height, batch: l.batch, color: seedColor(l.seed ?? 0) } satisfies Image] };
    },
  },
};

/** One /object_info entry, in ComfyUI's key order. */
export function objectInfo(name: string, cls: NodeClass, root: string): Record<string, unknown> {
  const input = cls.inputs(root);
  const order: Record<string, string[]> = { required: Object.keys(input.required) };
  if (input.optional) order.optional = Object.keys(input.optional);
  if (input.hidden) order.hidden = Object.keys(input.hidden);
  return {
    input,
    input_order: order,
    output: cls.output,
    output_is_list: cls.output.map(() => false),
    output_name: cls.output_name,
    name,
    display_name: cls.display_name,
    description: cls.description,
    python_module: cls.python_module,
    category: cls.category,
    output_node: cls.output_node,
  };
}
