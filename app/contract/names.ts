/**
 * The contract's names as plain values: the operations, the events, the env dialects. The
 * preload and the renderer import these from here, never from the schemas, so no zod reaches
 * their bundles (test/contract/names.test.ts). `operations` in index.ts must have exactly these
 * names (a compile error otherwise); `dialects` and `envValueSources` are what the config
 * schema validates against.
 */
import type { EventName } from './events.js';

export const opNames = [
  // ops/app.ts
  'appInfo',
  'configGet',
  'configSchema',
  'configCheck',
  'configSave',
  // ops/container.ts
  'dockerPing',
  'containerStatus',
  'containerStart',
  'containerStop',
  'containerRestart',
  'containerCreate',
  'containerRecreate',
  'containerRemove',
  'containerAdopt',
  'containerComposeApply',
  'containerLogs',
  'containerLogsFollow',
  'containerBuild',
  // ops/env.ts
  'envAudit',
  'envDiff',
  'envShow',
  'envSyncPreview',
  'envSyncApply',
  // ops/generate.ts
  'generateRun',
  'generateInterrupt',
  'generateHistory',
  'generateLatest',
  'comfyStatus',
  // ops/health.ts
  'healthRun',
  'healthStatus',
  'healthProbe',
  'setupDetect',
  'setupAdopt',
  'setupApply',
  'notifyTest',
  // ops/tokens.ts
  'tokenAudit',
  'tokenRotate',
  'tokenInit',
  'tokenImport',
  'tokenUnify',
  'tokenHistory',
  'tokenRecover',
  'tokenClientEnv',
  // ops/gateway.ts
  'gatewayStatus',
  'gatewayUp',
  'gatewayDown',
  'clientKeys',
  'clientKeyCreate',
  'clientKeyRevoke',
  'clientKeyRotate',
  'clientUsage',
  // ops/fleet.ts
  'fleetStatus',
  'fleetRotate',
  'fleetCapabilities',
] as const;

export type OpName = (typeof opNames)[number];

const opNameSet: ReadonlySet<string> = new Set(opNames);

/** An instance id (config `instances[].id`, the contract's `instance`). */
export const instanceIdPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * The operations of the panel as a whole (its config, the fleet). Every other operation acts on
 * one instance: it takes `instance` (an id; default the first instance) beside its input.
 */
export const fleetWideOps = ['appInfo', 'configGet', 'configSchema', 'configCheck', 'configSave', 'fleetStatus', 'fleetRotate', 'fleetCapabilities'] as const satisfies readonly OpName[];

export type FleetWideOp = (typeof fleetWideOps)[number];

const fleetWideSet: ReadonlySet<string> = new Set(fleetWideOps);

export const isFleetWide = (name: OpName): boolean => fleetWideSet.has(name);

export function isOpName(name: unknown): name is OpName {
  return typeof name === 'string' && opNameSet.has(name);
}

/** Every event the core pushes; the type test checks it covers PanelEvents exactly. */
export const eventNames = ['health', 'containerState', 'log', 'generationProgress', 'rotationStep', 'configReloaded', 'changed'] as const satisfies readonly EventName[];

/**
 * The facts the core tracks for invalidation (events.ts LiveFact): the container's state, the
 * vault (credential and its audit log), the env files, the run records, the configuration.
 */
export const liveFacts = ['container', 'vault', 'env', 'runs', 'config'] as const;

/** The readers an env file can be written for (config env.targets[].dialect). */
export const dialects = ['compose', 'dotenv', 'raw'] as const;
export type Dialect = (typeof dialects)[number];

export interface DialectLabel {
  /** One line for pickers: which readers use files of this dialect. */
  title: string;
  /** A sentence for help texts and the config schema. */
  description: string;
}

/** What the UI and the config schema say of each dialect; the modules are in app/env/dialects. */
export const dialectLabels: Readonly<Record<Dialect, DialectLabel>> = {
  compose: {
    title: 'compose (docker compose .env, env_file)',
    description: 'docker compose: the project .env and env_file; `$` starts a variable unless single-quoted',
  },
  dotenv: {
    title: 'dotenv (Python / Node notebooks)',
    description: 'npm dotenv and python-dotenv: no interpolation; `#` starts a comment even without a space',
  },
  raw: {
    title: 'raw (docker run --env-file, env_file format: raw)',
    description: 'docker run --env-file and env_file format: raw: the value is taken literally, quotes included',
  },
};

/** What a key in an env target is filled with. The token is the bcrypt hash (see the reference). */
export const envValueSources = ['token', 'url', 'username', 'password'] as const;

/**
 * The human title of each health check, by id, for the UI (the id stays visible in small print).
 * The same titles as the checks' own `HealthCheck.title` (test/renderer/check-titles.test.ts holds
 * them equal); an id missing here is shown as itself.
 */
export const checkTitles: Readonly<Record<string, string>> = {
  docker: 'Docker engine',
  container: 'Container running',
  'docker-health': 'Container healthcheck',
  'login-node': 'ComfyUI-Login',
  'auth-rejects-anonymous': 'Anonymous requests refused',
  'auth-accepts-token': 'Vault token accepted',
  'userdata-exposure': 'User data writable without login',
  'token-consistency': 'Token copies agree',
  'env-consistency': '.env files consistent',
  gpu: 'GPU',
  'comfyui-version': 'ComfyUI version',
  generation: 'Last smoke generation',
  'gateway-up': 'Gateway up',
  'gateway-hides-comfyui': 'ComfyUI only behind the gateway',
  'gateway-keys': 'Gateway keys enforced',
};
