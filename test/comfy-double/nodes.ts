import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { solidPng } from './png.js';
import { pyClone, pyJson, pyParse, type PyValue } from './pyjson.js';

/**
 * The node classes a bare ComfyUI 0.3.64 lists in /object_info, as data: object_info.json holds
 * what the real server answers for a subset of its 378 classes (every class and input our
 * workflows and tests use, with the real types and limits). File lists (models, input images)
 * are read from disk per request, like folder_paths. A few classes can also run here (RUNNERS).
 */
const FIXTURE = pyParse(readFileSync(new URL('./object_info.json', import.meta.url), 'utf8')) as unknown as Record<string, NodeInfo>;

/** An input spec as /object_info shows it: [type or combo list, options]. */
export type InputSpec = [string | PyValue[], Record<string, PyValue>?];

export interface NodeInfo {
  input: { required?: Record<string, InputSpec>; optional?: Record<string, InputSpec>; hidden?: Record<string, string> };
  input_order: Record<string, string[]>;
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  name: string;
  display_name: string;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
  output_tooltips?: string[];
}

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

const MODEL_EXTENSIONS = new Set(['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft']);

/** ComfyUI's folder_paths: each model kind and the folders it is read from (first wins), in /models order. */
export const MODEL_FOLDERS = {
  checkpoints: ['checkpoints'],
  configs: ['configs'],
  loras: ['loras'],
  vae: ['vae'],
  text_encoders: ['text_encoders', 'clip'],
  diffusion_models: ['unet', 'diffusion_models'],
  clip_vision: ['clip_vision'],
  style_models: ['style_models'],
  embeddings: ['embeddings'],
  diffusers: ['diffusers'],
  vae_approx: ['vae_approx'],
  controlnet: ['controlnet', 't2i_adapter'],
  gligen: ['gligen'],
  upscale_models: ['upscale_models'],
  hypernetworks: ['hypernetworks'],
  photomaker: ['photomaker'],
  classifiers: ['classifiers'],
  model_patches: ['model_patches'],
  audio_encoders: ['audio_encoders'],
} as const;
export type ModelKind = keyof typeof MODEL_FOLDERS;

function walk(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** folder_paths.get_filename_list: model files under dir/models/<folder>/, sorted, '/'-separated. */
export function modelFiles(root: string, kind: ModelKind): string[] {
  const isModel = (n: string) => MODEL_EXTENSIONS.has(n.slice(n.lastIndexOf('.')));
  return [...new Set(MODEL_FOLDERS[kind].flatMap((f) => walk(join(root, 'models', f), isModel)))].sort();
}

const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i;
const inputFiles = (root: string, sub: string, keep: (n: string) => boolean) => {
  const dir = join(root, 'input', sub);
  return existsSync(dir) ? readdirSync(dir).filter((f) => keep(f) && statSync(join(dir, f)).isFile()) : [];
};

/** Combo inputs whose choices come from disk, listed before the fixture's own choices (VAELoader's pixel_space). */
const DISK_LISTS: Record<string, (root: string) => string[]> = {
  'CheckpointLoaderSimple.ckpt_name': (root) => modelFiles(root, 'checkpoints'),
  'VAELoader.vae_name': (root) => modelFiles(root, 'vae'),
  'CLIPLoader.clip_name': (root) => modelFiles(root, 'text_encoders'),
  'UNETLoader.unet_name': (root) => modelFiles(root, 'diffusion_models'),
  'LoadImage.image': (root) => inputFiles(root, '', (f) => IMAGE_EXTENSIONS.test(f)).sort(),
  'LoadLatent.latent': (root) => inputFiles(root, '', (f) => f.endsWith('.latent')).sort(),
  'LoadImageIncognito.image': (root) => inputFiles(root, 'incognito', () => true).map((f) => `incognito/${f}`),
};

/** The custom node a class comes from ("custom_nodes.<folder>"), if any: it is listed only while that node is loaded. */
function customModule(info: NodeInfo): string | undefined {
  return info.python_module.startsWith('custom_nodes.') ? info.python_module.slice('custom_nodes.'.length) : undefined;
}

/** NODE_CLASS_MAPPINGS for one server: the core classes plus those of the custom nodes that imported. */
export class NodeRegistry {
  constructor(
    private readonly root: string,
    private readonly loadedCustomNodes: ReadonlySet<string>,
  ) {}

  names(): string[] {
    return Object.keys(FIXTURE).filter((n) => this.has(n));
  }

  has(name: unknown): name is string {
    if (typeof name !== 'string' || !Object.hasOwn(FIXTURE, name)) return false;
    const custom = customModule(FIXTURE[name]!);
    return custom === undefined || this.loadedCustomNodes.has(custom);
  }

  /** The class's /object_info entry with its disk-backed lists filled in. */
  info(name: string): NodeInfo {
    const info = pyClone(FIXTURE[name]!);
    for (const group of [info.input.required, info.input.optional]) {
      for (const [input, spec] of Object.entries(group ?? {})) {
        const list = DISK_LISTS[`${name}.${input}`];
        if (list && Array.isArray(spec[0])) spec[0] = [...list(this.root), ...spec[0]];
      }
    }
    return info;
  }

  isOutput(name: string): boolean {
    return FIXTURE[name]!.output_node;
  }

  returnTypes(name: string): string[] {
    return FIXTURE[name]!.output;
  }
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

/** A deterministic "generated" colour from the sampler seed, so different seeds give different images. */
function seedColor(seed: number): number {
  return (Math.imul(seed >>> 0 || 1, 2654435761) >>> 8) & 0xffffff;
}

type Runner = (inputs: Record<string, unknown>, ctx: RunContext) => Promise<RunResult>;
const passThrough: Runner = async (i) => ({ outputs: [i.model ?? i.conditioning ?? null] });

/** The classes the double can execute; the others fail at run time with NotImplementedError. */
const RUNNERS: Record<string, Runner> = {
  EmptyImage: async (i) => ({ outputs: [{ width: Number(i.width), height: Number(i.height), color: Number(i.color), batch: Number(i.batch_size) } satisfies Image] }),
  SaveImage: async (i, ctx) => {
    const img = i.images as Image;
    const images = ctx.saveImage(String(i.filename_prefix), () => solidPng(img.width, img.height, img.color, { prompt: pyJson(ctx.prompt) }), img.batch);
    return { outputs: [], ui: { images } };
  },
  UNETLoader: async (i, ctx) => ({ outputs: [loadModel(ctx.root, 'diffusion_models', String(i.unet_name))] }),
  CLIPLoader: async (i, ctx) => ({ outputs: [loadModel(ctx.root, 'text_encoders', String(i.clip_name))] }),
  VAELoader: async (i, ctx) => ({ outputs: [i.vae_name === 'pixel_space' ? { name: 'pixel_space' } : loadModel(ctx.root, 'vae', String(i.vae_name))] }),
  EmptySD3LatentImage: async (i) => ({ outputs: [{ width: Number(i.width), height: Number(i.height), batch: Number(i.batch_size) } satisfies Latent] }),
  EmptyLatentImage: async (i) => ({ outputs: [{ width: Number(i.width), height: Number(i.height), batch: Number(i.batch_size) } satisfies Latent] }),
  CLIPTextEncode: async (i) => ({ outputs: [{ text: i.text }] }),
  ModelSamplingAuraFlow: passThrough,
  ConditioningZeroOut: passThrough,
  FluxGuidance: passThrough,
  KSampler: async (i, ctx) => {
    const latent = i.latent_image as Latent;
    const steps = Number(i.steps);
    const color = seedColor(Number(i.seed));
    for (let s = 1; s <= steps; s++) {
      // The preview brightens to the final colour as denoising proceeds, like a TAESD preview would.
      await ctx.step(s, steps, solidPng(Math.max(1, latent.width >> 3), Math.max(1, latent.height >> 3), scaleColor(color, s / steps)));
    }
    return { outputs: [{ ...latent, seed: Number(i.seed) } satisfies Latent] };
  },
  VAEDecode: async (i) => {
    const l = i.samples as Latent;
    return { outputs: [{ width: l.width, height: l.height, batch: l.batch, color: seedColor(l.seed ?? 0) } satisfies Image] };
  },
};

export function runNode(classType: string, inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const run = RUNNERS[classType];
  if (!run) throw new NodeException('NotImplementedError', `the ComfyUI double cannot execute ${classType} (it only validates it)`);
  return run(inputs, ctx);
}
