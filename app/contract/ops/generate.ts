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

export const generateOps = {};
