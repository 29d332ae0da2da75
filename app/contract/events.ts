import type { CheckResult } from './ops/health.js';
import type { ContainerState } from './ops/container.js';
import type { GenerationProgress } from './ops/generate.js';
import type { RotationStep } from './ops/tokens.js';

/** Every event the core pushes to the UI, by name. */
export interface PanelEvents {
  /** One health check finished (also sent for each check of a full sweep). */
  health: CheckResult;
  /** The managed container changed state. */
  containerState: ContainerState;
  /** One line of container log output, already demultiplexed, ANSI-stripped and redacted. */
  log: LogLine;
  /** Progress of a running test generation. */
  generationProgress: GenerationProgress;
  /** One step of a credential rotation started, finished or failed. */
  rotationStep: RotationStep;
}

export type EventName = keyof PanelEvents;

export interface LogLine {
  /** Monotonic sequence number per container log stream. */
  seq: number;
  stream: 'stdout' | 'stderr';
  /** ISO time from Docker's timestamps, or the time the panel received the line. */
  time: string;
  text: string;
}
