import path from 'node:path';
import type Dockerode from 'dockerode';
import { probeAuth } from '../comfy/client.js';
import { openBrowserSession, probeBrowserSession } from '../comfy/session.js';
import type { PanelPaths } from '../config/paths.js';
import type { Dialect, PanelConfig } from '../config/schema.js';
import type { RotationResult, RotationStep, TokenAudit, TokenImportResult } from '../contract/ops/tokens.js';
import { ContainerManager } from '../docker/manager.js';
import { waitServing } from '../docker/wait-serving.js';
import { GatewayManager } from '../docker/gateway.js';
import { gatewayUrl } from '../gateway/deployment.js';
import { drainingServer } from '../gateway/drain.js';
import { resolveEnvRoot, resolveEnvTarget } from '../env/root.js';
import type { FileOwner } from '../fs/atomic.js';
import { PanelError } from '../errors.js';
import { auditCredential, findTokenByFingerprint } from './audit.js';
import { importFromEnvFile, importFromLocation } from './adopt.js';
import { clientEnvLines } from './client-env.js';
import { containerEnvLocation } from './container-env-location.js';
import { readJournal } from './journal.js';
import { envTargetLocation } from './env-location.js';
import { containerPasswordLocation, secretFileLocation, type ContainerFiles, type CredentialLocation } from './locations.js';
import { recoverRotation, rotateCredential, type ComfyServerControl, type RotationDeps } from './rotation.js';
import { retentionOf } from './retention.js';
import { sessionKeyLocation } from './session-key.js';
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
 * Restart through the container manager; healthy means ComfyUI itself answers (waitServing
 * polls GET /system_stats, not Docker's healthcheck, whose status changes only at its next run);
 * auth facts from probeAuth.
 */
export function containerServer(config: PanelConfig, manager: ContainerManager): ComfyServerControl {
  const probe = (token: string | undefined) => probeAuth(config.comfyui.url, token, config.comfyui.timeoutMs);
  let restartCountBefore: number | undefined;
  return {
    // A first credential may come before the container exists: starting creates it.
    restart: async () => {
      const s = await manager.status();
      restartCountBefore = s.restartCount ?? 0;
      if (s.exists) await manager.restart();
      else await manager.start();
    },
    waitHealthy: async (token) => {
      await waitServing(manager, {
        url: config.comfyui.url,
        ...(token ? { token } : {}),
        timeoutMs: config.credential.healthyTimeoutSec * 1000,
        requestTimeoutMs: config.comfyui.timeoutMs,
        ...(restartCountBefore !== undefined ? { restartCountBefore } : {}),
      });
    },
    probe,
    openSession: (password) => openBrowserSession(config.comfyui.url, password, config.comfyui.timeoutMs),
    probeSession: (cookie) => probeBrowserSession(config.comfyui.url, cookie, config.comfyui.timeoutMs),
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
      stateDir: new GatewayManager(config, { dataDir: paths.dataDir }, opts.docker).state,
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
  /**
   * Without a secret file the credential can only be written into an existing container; with
   * neither, the first start would create a container that refuses to run without a password
   * (and a rollback would do so again): refuse before anything is touched.
   */
  const refuseWithoutPasswordSource = async () => {
    if (opts.locations || config.container.secretFile) return;
    if ((await containerManager().status()).exists) return;
    throw new PanelError(
      `container ${config.container.name} does not exist and no container.secretFile is configured, so the new credential has nowhere to go before the first start`,
      'no-secret-file',
      'Set container.secretFile in the config (e.g. a file under the panel\'s data folder, mounted read-only like the recipe\'s compose.yaml does) and run `comfy-panel token init` again; or create the container with its own login/PASSWORD and `comfy-panel token import --from-container`.',
    );
  };
  // Rotations, rollbacks and unify also replace ComfyUI-Login's session key, so browser sessions end with the old password.
  const rotationDeps = (): RotationDeps => {
    const d = deps();
    return opts.locations ? d : { ...d, locations: [...d.locations, sessionKeyLocation(containerManager(), config.container.comfyRoot)] };
  };

  return {
    vault,
    // The container's own env is audited, never written: a rotation cannot change it (see container-env-location.ts).
    audit: (): Promise<TokenAudit> => {
      const d = deps();
      const host = config.docker.host;
      const envKeys = opts.locations ? [] : (config.container.tokenEnvKeys ?? []);
      const inEnv = envKeys.map((key) => containerEnvLocation(containerManager().docker, config.container.name, key, host));
      return auditCredential({ ...d, locations: [...d.locations, ...inEnv] });
    },
    /** Keeps the vault's username unless `username` is given. */
    rotate: (username?: string): Promise<RotationResult> => rotateCredential(rotationDeps(), { kind: 'rotate', ...(username ? { username } : {}) }),
    async init(force = false): Promise<RotationResult> {
      await refuseWithoutPasswordSource();
      return rotateCredential(rotationDeps(), { kind: 'init', force });
    },
    recover: (): Promise<RotationResult> => recoverRotation(rotationDeps()),
    /** At start: settle a rotation a crash interrupted, if its journal is there (no Docker call otherwise). */
    recoverIfPending: async (): Promise<RotationResult | undefined> => ((await readJournal(vault)) ? recoverRotation(rotationDeps()) : undefined),
    async unify(to: string): Promise<RotationResult> {
      const d = rotationDeps();
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
