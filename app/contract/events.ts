import type { CheckResult } from './ops/health.js';
import type { ContainerState } from './ops/container.js';
import type { GenerationProgress } from './ops/generate.js';
import type { RotationStep } from './ops/tokens.js';
import type { liveFacts } from './names.js';

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
  /**
   * Facts changed that no other event carries: the vault written by the CLI or another process,
   * env files or run records written by an operation. The UI refetches what reads them; the core
   * has already re-run the health checks that depend on them.
   */
  changed: FactsChanged;
}

export interface ConfigReloaded {
  path: string;
  /** Dotted config fields that changed (empty with an error). */
  changed: string[];
  /** Set when the new file is not a valid config: what is wrong; the running app keeps the previous one. */
  error?: string;
}

export interface FactsChanged {
  facts: LiveFact[];
  /** `file`: seen on disk (possibly written by another process); `operation`: an operation of this panel wrote it. */
  cause: 'file' | 'operation';
}

export type EventName = keyof PanelEvents;

/** A piece of state that others read: what `changed` reports and what health checks depend on. */
export type LiveFact = (typeof liveFacts)[number];

export interface LogLine {
  /** Monotonic sequence number per container log stream. */
  seq: number;
  stream: 'stdout' | 'stderr';
  /** ISO time from Docker's timestamps, or the time the panel received the line. */
  time: string;
  text: string;
}
