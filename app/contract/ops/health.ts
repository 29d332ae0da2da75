import { z } from 'zod';
import { op } from '../define.js';
import type { PanelConfig } from '../../config/schema.js';
import type { ConfigView } from './app.js';
import type { DockerPing, PublishedPort } from './container.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'unknown';

export interface CheckFix {
  text: string;
  /** A panel operation that applies the fix in one click, where that is safe. */
  action?: string;
  /** The input to pass to `action`, when it needs one (e.g. tokenUnify's fingerprint). */
  input?: Record<string, string | number | boolean>;
  /** The failure class from the troubleshooting map (e.g. "token-mismatch", "daemon-not-running"). */
  failure?: string;
  /** What is wrong and why it matters, for the operator. */
  explanation?: string;
}

export interface CheckResult {
  id: string;
  status: CheckStatus;
  latencyMs: number;
  checkedAt: string;
  message: string;
  fix?: CheckFix;
  /** How many runs the sweep needed (retries of a failing check count). */
  attempts?: number;
}

/** One dot of the history strip. */
export interface HistoryPoint {
  status: CheckStatus;
  checkedAt: string;
  /** How long the check took: the dashboard's latency sparkline. */
  latencyMs: number;
  /** The check's one-line message then (no secrets): what the history view shows for an incident. */
  message: string;
}

export interface CheckSummary extends CheckResult {
  /** The last 50 results of this check, oldest first. */
  history: HistoryPoint[];
  /** Percent of ok/warn results among ok/warn/fail results over the last 24 h; null with no such result. */
  uptime24h: number | null;
}

export interface HealthStatusView {
  checks: CheckSummary[];
  lastCheckAt: string | null;
  nextCheckAt: string | null;
  intervalSec: number;
  /** True while the background monitor runs. */
  monitoring: boolean;
}

export interface HealthSweep {
  checks: CheckResult[];
  startedAt: string;
  durationMs: number;
  /** ok unless some check is fail (warn and unknown do not fail a sweep). */
  ok: boolean;
}

/** The auth success-rate probe: N concurrent authenticated GET /system_stats. */
export interface AuthProbeReport {
  url: string;
  requests: number;
  succeeded: number;
  /** Percent of requests answered 200, 0-100 with one decimal. */
  successRate: number;
  /** Count per HTTP status; "error" for no answer in time. */
  byStatus: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  durationMs: number;
  /** Distinct error messages seen (no secrets). */
  errors: string[];
}

export interface ContainerCandidate {
  name: string;
  id: string;
  image: string;
  state: string;
  ports: PublishedPort[];
  managed: boolean;
  /** Not made by the panel: it would be adopted. */
  adopted: boolean;
  /** The name the config currently points at. */
  configured: boolean;
  /** Compose project it belongs to, when compose made it. */
  composeProject?: string;
}

export interface CredentialSource {
  /** "container:<name>" or "env:<file>#<key>". */
  source: string;
  kind: 'container' | 'env';
  /** Fingerprint of the bcrypt hash found there; never the value. */
  fingerprint: string;
  /** For env sources: the file (relative to the scanned root) and key, as tokenImport takes them. */
  file?: string;
  key?: string;
  container?: string;
}

export interface SetupDetection {
  docker: DockerPing & { howTo: string };
  containers: ContainerCandidate[];
  credentialSources: CredentialSource[];
  envFiles: string[];
  /** Tagged images on the engine, for the create path. */
  images: string[];
  /** The folder scanned for .env files. */
  envRoot: string;
  /** Steps that could not be looked at, with why. */
  skipped: { step: string; reason: string }[];
}

/** One value adoption takes from the running deployment, and where it was read. Never a secret. */
export interface AdoptedValue {
  /** Config field, dotted (e.g. "container.secretFile", "env.targets[1]"). */
  field: string;
  value: string;
  /** "docker inspect", "compose label …", "env_file x.env (format: raw)", … */
  from: string;
}

/** One config field the adoption changes, as the operator confirms it. */
export interface ConfigChange {
  field: string;
  from: string;
  to: string;
}

/** Where docker compose made a container, from its labels. */
export interface ComposeOrigin {
  project: string;
  service: string;
  workingDir: string;
  configFiles: string[];
}

/** "Adopt these values": the config for one deployment, read from Docker and compose, and how it differs from the current one. */
export interface AdoptionPlan {
  container: string;
  compose?: ComposeOrigin;
  /** The whole configuration as it would be saved (the current one with the deployment's values in). */
  config: PanelConfig;
  adopted: AdoptedValue[];
  diff: ConfigChange[];
  /** What adoption could not carry over, or found doubtful. */
  notes: string[];
  /** Where the token can be imported from (fingerprints only), for `--import-from` / tokenImport. */
  tokenSources: CredentialSource[];
}

export const SetupChoicesSchema = z
  .object({
    dockerHost: z.string().min(1).optional().describe('Docker engine address; omit to keep the current one'),
    containerName: z.string().min(1).optional().describe('Container to manage or adopt'),
    comfyuiUrl: z.url().optional(),
    hostPort: z.int().min(1).max(65535).optional(),
    envRoot: z.string().min(1).optional().describe('Project folder scanned for .env files'),
  })
  .strict();
export type SetupChoices = z.output<typeof SetupChoicesSchema>;

const empty = z.object({}).strict();

/** How one notification channel took one message (never its URL beyond the host, never a secret). */
export interface NotifyDelivery {
  channel: string;
  kind: 'webhook' | 'ntfy' | 'slack' | 'discord';
  /** Scheme and host only. */
  where: string;
  ok: boolean;
  /** The HTTP status the channel answered, when it answered. */
  status?: number;
  ms: number;
  error?: string;
}

export interface NotifyTestResult {
  deliveries: NotifyDelivery[];
}

export const healthOps = {
  healthRun: op<HealthSweep>()('Run every health check now (concurrently, each with its timeout); emits a `health` event per check', empty),
  healthStatus: op<HealthStatusView>()('Latest results, the last 50 statuses and 24 h uptime per check, last and next check time', empty),
  healthProbe: op<AuthProbeReport>()(
    'Send N concurrent authenticated requests and report the success rate, counts by status and latency percentiles',
    z.object({ requests: z.int().min(1).max(10_000).optional().describe('default: config health.probeRequests') }).strict(),
  ),
  setupDetect: op<SetupDetection>()(
    'First run: find the Docker engine, ComfyUI containers, importable credentials and .env files',
    z.object({ dockerHost: z.string().min(1).optional().describe('Probe this engine address instead of the configured one (the wizard\'s step 1)') }).strict(),
  ),
  setupAdopt: op<AdoptionPlan>()(
    'Read an existing container (docker inspect, compose labels and files) into a proposed config, with the diff against the current one; writes nothing',
    z
      .object({
        containerName: z.string().min(1).describe('Container to adopt'),
        dockerHost: z.string().min(1).optional().describe('Engine it runs on; omit for the configured one'),
      })
      .strict(),
  ),
  setupApply: op<ConfigView>()(
    'First run: write the configuration from the chosen answers (each may be omitted to keep the current value)',
    z.object({ choices: SetupChoicesSchema }).strict(),
  ),
  notifyTest: op<NotifyTestResult>()(
    'Send a test notification to every enabled channel of config notifications.channels, or to the one named',
    z.object({ channel: z.string().min(1).optional() }).strict(),
  ),
};
