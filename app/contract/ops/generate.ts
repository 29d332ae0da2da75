import { z } from 'zod';
import { op } from '../define.js';

export interface GenerationProgress {
  runId: string;
  promptId?: string;
  phase: 'queued' | 'running' | 'downloading' | 'done' | 'failed';
  /** Node id currently executing, and its class_type. */
  node?: string;
  nodeClass?: string;
  /** Sampler steps, from ComfyUI `progress` messages. */
  step?: { value: number; max: number };
  /** 0..100 over the whole graph. */
  percent: number;
  message?: string;
}

export interface GenerationTimings {
  /** Submit → execution_start: time waiting in ComfyUI's queue (includes the POST). */
  queueMs: number;
  /** execution_start → end of prompt. */
  executionMs: number;
  /** End of prompt → every image fetched from /view and saved. */
  downloadMs: number;
  /** The whole run, preflight and WebSocket connect included. */
  totalMs: number;
  /** The panel's own time: totalMs minus queue, execution and download. */
  overheadMs: number;
}

/** One test generation's outcome; also one line of the run history. Holds no secrets. */
export interface GenerationResult {
  ok: boolean;
  runId: string;
  /** "smoke", "qwen", "qwen-edit" or the workflow file's path. */
  workflow: string;
  promptId?: string;
  /** Absolute paths of the saved images. */
  images: string[];
  timings: GenerationTimings;
  /** True when ComfyUI served every node from its cache. */
  cached: boolean;
  error?: string;
  /** ComfyError kind (unauthorized, unreachable, invalid-prompt, execution, ...), 'preflight', 'interrupted' or 'failed'. */
  errorKind?: string;
  /** Whose token the run sent: the vault's, an override for the run (COMFYUI_TOKEN), or none; absent in older records. */
  tokenSource?: 'vault' | 'override' | 'none';
}

/** What a run was asked for; the seed is the one used (drawn at random when none was given). */
export interface RunParams {
  prompt?: string;
  negative?: string;
  seed?: number;
  width?: number;
  height?: number;
  steps?: number;
}

export interface RunRecord extends GenerationResult {
  /** ISO time the run ended. */
  time: string;
  /** Absent in records written before runs kept them. */
  params?: RunParams;
}

export interface GeneratedImage {
  path: string;
  bytes: number;
  /** data:image/...;base64 URL for the UI; absent for images of 4 MB or more. */
  dataUrl?: string;
}

export interface GenerateRunResult extends GenerationResult {
  previews: GeneratedImage[];
}

export interface ComfyStatus {
  url: string;
  ok: boolean;
  latencyMs: number;
  version?: string;
  pythonVersion?: string;
  pytorchVersion?: string;
  devices: { name: string; type: string; vramTotal?: number; vramFree?: number }[];
  queue?: { running: number; pending: number };
  error?: string;
  errorKind?: string;
}

const dimension = z.int().min(1).max(16_384);

export const GenerateRunInput = z
  .object({
    workflow: z
      .union([z.literal('smoke'), z.literal('qwen'), z.literal('qwen-edit'), z.object({ file: z.string().min(1) }).strict()])
      .default('smoke')
      .describe('A built-in workflow (smoke; qwen: Qwen-Image text-to-image; qwen-edit: Qwen-Image-Edit-2509 on an input image), or an API-format JSON file'),
    prompt: z.string().max(20_000).optional(),
    negative: z.string().max(20_000).optional(),
    seed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    width: dimension.optional(),
    height: dimension.optional(),
    steps: z.int().min(1).max(1_000).optional(),
    outDir: z.string().min(1).optional().describe('Where images are saved; default: the data folder'),
  })
  .strict();

export const generateOps = {
  generateRun: op<GenerateRunResult>()('Run a test generation through the authenticated API and save its images', GenerateRunInput),
  generateInterrupt: op<{ interrupted: string[] }>()(
    'Interrupt running test generations (all, or the one with runId)',
    z.object({ runId: z.string().min(1).optional() }).strict(),
  ),
  generateHistory: op<{ runs: RunRecord[] }>()(
    'The latest test generations, newest first',
    z.object({ limit: z.int().min(1).max(1_000).default(20) }).strict(),
  ),
  generateLatest: op<{ run?: RunRecord; preview?: GeneratedImage }>()(
    'The newest successful test generation and its first image (as a data URL when the file is still there)',
    z.object({}).strict(),
  ),
  comfyStatus: op<ComfyStatus>()('ComfyUI version, devices and queue (GET /system_stats and /queue)', z.object({}).strict()),
};
