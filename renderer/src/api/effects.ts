import type { LiveFact, OpName } from '../../../app/contract/index.js';
import { opNames } from '../../../app/contract/names.js';

/** A configuration change: every piece of state may differ, so every query is refetched. */
export const EVERYTHING = 'everything';

/**
 * What each operation changes: the queries refetched (once) when it settles. Every operation is
 * listed, reads with nothing, so a new operation cannot be added without deciding this.
 */
export const invalidates: Record<OpName, readonly OpName[] | typeof EVERYTHING> = {
  appInfo: [],
  configGet: [],
  configSave: EVERYTHING,
  configSchema: [],
  configCheck: [],
  dockerPing: [],
  containerStatus: [],
  containerStart: ['containerStatus'],
  containerStop: ['containerStatus'],
  containerRestart: ['containerStatus'],
  containerCreate: ['containerStatus'],
  containerRecreate: ['containerStatus'],
  containerComposeApply: ['containerStatus'],
  containerRemove: ['containerStatus'],
  containerAdopt: [],
  containerLogs: [],
  containerLogsFollow: [],
  containerBuild: [],
  envAudit: [],
  envDiff: [],
  envShow: [],
  envSyncPreview: [],
  // The token's copies include the env targets.
  envSyncApply: ['envAudit', 'tokenAudit'],
  generateRun: ['generateHistory', 'generateLatest'],
  generateInterrupt: [],
  generateHistory: [],
  generateLatest: [],
  comfyStatus: [],
  fleetStatus: [],
  // Every instance's credential may have changed.
  fleetRotate: EVERYTHING,
  fleetCapabilities: [],
  healthRun: ['healthStatus'],
  healthStatus: [],
  healthProbe: [],
  setupAdopt: [],
  notifyTest: [],
  setupDetect: [],
  // The wizard saves as it goes: everything but what keeps it on screen (appInfo) and what it shows.
  setupApply: opNames.filter((n) => n !== 'appInfo' && n !== 'setupDetect'),
  tokenAudit: [],
  // A credential change writes the vault, the secret file and the env targets, and restarts ComfyUI.
  tokenRotate: ['tokenAudit', 'tokenHistory', 'envAudit', 'containerStatus'],
  tokenInit: ['tokenAudit', 'tokenHistory', 'envAudit', 'containerStatus'],
  tokenImport: ['tokenAudit', 'tokenHistory', 'envAudit'],
  tokenUnify: ['tokenAudit', 'tokenHistory', 'envAudit', 'containerStatus'],
  tokenHistory: [],
  tokenRecover: ['tokenAudit', 'tokenHistory', 'envAudit', 'containerStatus'],
  tokenClientEnv: [],
  gatewayStatus: [],
  gatewayUp: ['gatewayStatus'],
  gatewayDown: ['gatewayStatus'],
  clientKeys: [],
  clientKeyCreate: ['clientKeys', 'clientUsage'],
  clientKeyRevoke: ['clientKeys', 'clientUsage'],
  clientKeyRotate: ['clientKeys', 'clientUsage'],
  clientUsage: [],
};

/**
 * Which queries read the fact a health check watches: when that check's status changes, they
 * are stale too (e.g. "Token copies agree" turning red means the token audit changed).
 */
export const checkDependents: Readonly<Record<string, readonly OpName[]>> = {
  docker: ['containerStatus'],
  container: ['containerStatus'],
  'docker-health': ['containerStatus'],
  'login-node': ['containerStatus'],
  'auth-rejects-anonymous': ['tokenAudit'],
  'auth-accepts-token': ['tokenAudit'],
  'token-consistency': ['tokenAudit'],
  'env-consistency': ['envAudit'],
  generation: ['generateLatest', 'generateHistory'],
  'gateway-up': ['gatewayStatus'],
  'gateway-hides-comfyui': ['gatewayStatus'],
  'gateway-keys': ['clientKeys'],
};

/**
 * The queries that read each fact the core reports as `changed` (a CLI rotation rewrote the
 * vault, an operation wrote env files or run records): refetched once per burst.
 */
export const factDependents: Readonly<Record<LiveFact, readonly OpName[] | typeof EVERYTHING>> = {
  container: ['containerStatus'],
  vault: ['tokenAudit', 'tokenHistory'],
  env: ['envAudit', 'tokenAudit'],
  runs: ['generateHistory', 'generateLatest'],
  config: EVERYTHING,
};

/** Container phases an operation in flight shows until the data says otherwise. */
export type Transition = 'starting' | 'restarting' | 'stopping';

/** The operations that move the container, and the transitional state each shows at once. */
export const transitionOf: Partial<Record<OpName, Transition>> = {
  containerStart: 'starting',
  containerRestart: 'restarting',
  containerStop: 'stopping',
  containerRecreate: 'restarting',
  tokenRotate: 'restarting',
  tokenUnify: 'restarting',
};

/**
 * How long events are gathered before the queries they invalidate are refetched (a sweep sends
 * one `health` event per check; a restart several `containerState` events): quiet period, and
 * the longest wait from the first event.
 */
export const coalesce = {
  health: { quietMs: 600, maxMs: 3_000 },
  containerState: { quietMs: 150, maxMs: 1_000 },
  rotationStep: { quietMs: 400, maxMs: 2_000 },
  generationProgress: { quietMs: 100, maxMs: 500 },
  changed: { quietMs: 100, maxMs: 500 },
} as const;
