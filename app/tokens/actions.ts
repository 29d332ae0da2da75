import path from 'node:path';
import type Dockerode from 'dockerode';
import { probeAuth } from '../comfy/client.js';
import type { PanelPaths } from '../config/paths.js';
import type { Dialect, PanelConfig } from '../config/schema.js';
import type { RotationResult, RotationStep, TokenAudit, TokenImportResult } from '../contract/ops/tokens.js';
import { ContainerManager } from '../docker/manager.js';
import { gatewayStateDir, gatewayUrl } from '../gateway/deployment.js';
import { drainingServer } from '../gateway/drain.js';
import { resolveEnvRoot, resolveEnvTarget } from '../env/root.js';
import type { FileOwner } from '../fs/atomic.js';
import { PanelError } from '../errors.js';
import { auditCredential, findTokenByFingerprint } from './audit.js';
import { importFromEnvFile, importFromLocation } from './adopt.js';
import { clientEnvLines } from './client-env.js';
import { readJournal } from './journal.js';
import { envTargetLocation } from './env-location.js';
import { containerPasswordLocation, secretFileLocation, type ContainerFiles, type CredentialLocation } from './locations.js';
import { recoverRotation, rotateCredential, type ComfyServerControl, type RotationDeps } from './rotation.js';
import { retentionOf } from './retention.js';
import { openVault, type VaultKeys } from './vault.js';
import { envBackupDir } from '../env/sources.js';

export interface TokenActionOptions {
  /** "cli:user@host" or "ui:user@host" (see actorName). */
  actor: string;
  onStep?: (step: RotationStep) => void;
  /** How the vault key is kept: the runtime's (PanelContext.vaultKeys); default the 0600 key file. */
  keys?: VaultKeys;
  /** The config file in use: the env root (and so every relative target path) follows from it, see env/root.ts. */
  configFile?: string;
  docker?: Dockerode;
  /** Replaces the container-backed server and locations (tests, fault injection). */
  server?: ComfyServerControl;
  locations?: CredentialLocation[];
  /** Lines about what happens around the steps (the gateway's drain), for the operator; no secrets. */
  onProgress?: (line: string) => void;
}

/**
 * Restart through the container manager, health from its waitFor, auth facts from probeAuth.
 * Healthy also means the HTTP port answers: a container without a healthcheck counts as
 * healthy as soon as it runs, before ComfyUI listens.
 */
export function containerServer(config: PanelConfig, manager: ContainerManager): ComfyServerControl {
  const probe = (token: string | undefined) => probeAuth(config.comfyui.url, token, config.comfyui.timeoutMs);
  return {
    // A first credential may come before the container exists: starting creates it.
    restart: async () => {
      if ((await manager.status()).exists) await manager.restart();
      else await manager.start();
    },
    waitHealthy: async () => {
      const deadline = Date.now() + config.credential.healthyTimeoutSec * 1000;
      await manager.waitFor('healthy', deadline - Date.now());
      for (;;) {
        const r = await probe(undefined);
        if (r.status !== null) return;
        if (Date.now() > deadline) throw new PanelError(`ComfyUI did not answer at ${config.comfyui.url} after the restart: ${r.error ?? 'no answer'}`, 'comfy-unreachable', 'See `comfy-panel container logs`.');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    probe,
  };
}

/**
 * Every copy of the credential a config names: the container's PASSWORD, the host secret
 * file, each env target. `envRoot` comes from resolveEnvRoot (env/root.ts);
 * `secretFileOwner`, when known, owns a secret file that has to be created (the container's user).
 */
export function configuredLocations(config: PanelConfig, opts: { container: ContainerFiles; envRoot: string; secretFileOwner?: FileOwner }): CredentialLocation[] {
  const out: CredentialLocation[] = [];
  const secretFile = config.container.secretFile;
  out.push(containerPasswordLocation(opts.container, config.container.comfyRoot, secretFile !== undefined));
  if (secretFile) out.push(secretFileLocation(secretFile, 'secret-file', opts.secretFileOwner ? { newOwner: opts.secretFileOwner } : {}));
  // Behind the gateway a target with a client key holds that key, not the shared hash: a rotation does not touch it.
  for (const target of config.env.targets) if (!(config.gateway.enabled && target.clientKey)) out.push(envTargetLocation(target, opts.envRoot, config.comfyui.url));
  return out;
}

/** Every credential operation for one config, shared by the CLI and the service. */
export function tokenActions(config: PanelConfig, paths: PanelPaths, opts: TokenActionOptions) {
  const vault = openVault(config, paths, opts.keys);
  let manager: ContainerManager | undefined;
  const containerManager = () => (manager ??= new ContainerManager(config, opts.docker));
  const envRoot = resolveEnvRoot(config.env, opts.configFile ?? paths.configFile);
  const locations = () => opts.locations ?? configuredLocations(config, { container: containerManager(), envRoot });
  // Behind the gateway, ComfyUI's restart drains through it first: no render is killed.
  const server = (): ComfyServerControl => {
    const direct = opts.server ?? containerServer(config, containerManager());
    if (!config.gateway.enabled) return direct;
    return drainingServer(direct, {
      url: gatewayUrl(config.gateway),
      stateDir: gatewayStateDir(config.gateway, paths.dataDir),
      drainTimeoutMs: config.gateway.drainTimeoutSec * 1000,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  };
  const deps = (): RotationDeps => ({
    vault,
    locations: locations(),
    server: server(),
    actor: opts.actor,
    username: config.credential.username,
    retention: retentionOf(config, envBackupDir(paths)),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  });

  return {
    vault,
    audit: (): Promise<TokenAudit> => auditCredential(deps()),
    rotate: (): Promise<RotationResult> => rotateCredential(deps(), { kind: 'rotate' }),
    init: (force = false): Promise<RotationResult> => rotateCredential(deps(), { kind: 'init', force }),
    recover: (): Promise<RotationResult> => recoverRotation(deps()),
    /** At start: settle a rotation a crash interrupted, if its journal is there (no Docker call otherwise). */
    recoverIfPending: async (): Promise<RotationResult | undefined> => ((await readJournal(vault)) ? recoverRotation(deps()) : undefined),
    async unify(to: string): Promise<RotationResult> {
      const d = deps();
      const cred = await findTokenByFingerprint(d, to, config.credential.username);
      if (!cred) throw new PanelError(`no location holds a token with fingerprint ${to}`, 'unknown-fingerprint', 'Pick one of the fingerprints listed by `comfy-panel token audit`.');
      return rotateCredential(d, { kind: 'unify', to: cred });
    },
    importFromContainer: (): Promise<TokenImportResult> =>
      importFromLocation(vault, containerPasswordLocation(containerManager(), config.container.comfyRoot, config.container.secretFile !== undefined)),
    importFromEnv(file: string, key: string, dialect?: Dialect): Promise<TokenImportResult> {
      const abs = path.resolve(envRoot, file);
      const target = config.env.targets.find((t) => resolveEnvTarget(envRoot, t) === abs);
      return importFromEnvFile(vault, abs, key, dialect ?? target?.dialect ?? 'dotenv', config.credential.username);
    },
    /** SECRET: only on the user's explicit request. */
    async clientEnv(dialect: Dialect): Promise<{ lines: string[] }> {
      const state = await vault.read();
      if (!state) throw new PanelError('the vault holds no credential yet', 'no-credential', 'Create one with `comfy-panel token init` or adopt one with `token import`.');
      return { lines: clientEnvLines(state.current, config.comfyui.url, dialect) };
    },
  };
}
