import { z } from 'zod';
import { op } from '../define.js';
import type { CheckStatus } from './health.js';

/** One instance of the fleet as the panel names it. */
export interface InstanceInfo {
  id: string;
  label: string;
}

/** One row of the fleet view: what the instance's page would show at a glance. */
export interface FleetRow extends InstanceInfo {
  /** The engine it runs on, as configured (unix socket, tcp, ssh, context); never a credential. */
  engine: string;
  /** The latest result of each health check (the instance's own monitor), in display order. */
  checks: { id: string; status: CheckStatus; message: string }[];
  /** From ComfyUI's /system_stats; absent when ComfyUI did not answer. */
  gpu?: { name: string; vramTotalMb?: number; vramFreeMb?: number };
  queue?: { running: number; pending: number };
  /** When the credential in force was made (the vault); null without one. */
  tokenCreatedAt: string | null;
  /** The newest test generation of this instance. */
  lastGeneration: { time: string; ok: boolean; workflow?: string } | null;
  /** Why part of the row is missing: the engine or ComfyUI did not answer within the row's deadline. */
  error?: string;
}

export interface FleetStatus {
  instances: FleetRow[];
  at: string;
}

export type StagedOutcome = 'committed' | 'rolled-back' | 'failed' | 'not-started';

export interface StagedRotationRow {
  id: string;
  /** 0: the canary; 1.. the waves. */
  wave: number;
  outcome: StagedOutcome;
  /** The token in force after it (the new one when committed, the old one when rolled back). */
  fingerprint?: string;
  failedStep?: string;
  error?: string;
}

/** A staged rotation: halts at the first failure; a later `resume` continues where it halted. */
export interface StagedRotation {
  rotationId: string;
  instances: StagedRotationRow[];
  halted: boolean;
  /** The instance it halted at; null when it did not halt. */
  haltedAt: string | null;
}

export interface CapabilityRow {
  id: string;
  ok: boolean;
  missingNodes: string[];
  missingModels: { folder: string; file: string }[];
  vram: { needMb?: number; haveMb?: number; ok: boolean };
  error?: string;
}

export interface CapabilityMatrix {
  workflow: string;
  /** What the workflow needs: its node classes, the model files its loaders name (with the nodes that load each), a VRAM need when given. */
  requirements: { nodeClasses: string[]; models: { folder: string; file: string; nodes: string[] }[]; minVramMb?: number };
  instances: CapabilityRow[];
}

export const fleetOps = {
  fleetStatus: op<FleetStatus>()(
    'One row per instance (checks, GPU, queue, token age, last generation); an instance that does not answer gets an error and never delays the others',
    z.object({}).strict(),
  ),
  fleetRotate: op<StagedRotation>()(
    'Rotate the credential of every instance in stages: the canary alone, then waves of N; halts at the first failure (that instance rolls back, the rest are untouched); `resume` continues a halted one',
    z
      .object({
        canary: z.string().min(1).optional().describe('Instance rotated first, alone; default: the first instance'),
        wave: z.int().min(1).max(100).default(1).describe('How many instances rotate at once after the canary'),
        resume: z.boolean().default(false).describe('Continue the last staged rotation that halted: its committed instances are skipped'),
      })
      .strict(),
  ),
  fleetCapabilities: op<CapabilityMatrix>()(
    'For a workflow: which instances have its node classes, model files and VRAM, naming what each lacks',
    z
      .object({
        workflow: z
          .union([z.literal('smoke'), z.literal('qwen'), z.literal('qwen-edit'), z.object({ file: z.string().min(1) }).strict()])
          .describe('A built-in workflow or an API-format JSON file'),
        minVramMb: z.int().min(1).max(10_000_000).optional().describe('VRAM the workflow needs, in MiB (the API does not tell model sizes)'),
      })
      .strict(),
  ),
};
