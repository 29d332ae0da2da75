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
  /** The config file changed on disk (by hand, by the CLI) and was reloaded; or it is invalid and the old one stays. */
  configReloaded: ConfigReloaded;
}

export interface ConfigReloaded {
  path: string;
  /** Dotted config fields that changed (empty with an error). */
  changed: string[];
  /** Set when the new file is not a valid config: what is wrong; the running app keeps the previous one. */
  error?: string;
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
