import { ComfyClient, probeAuth, type ProbeResult, type SystemStats } from '../comfy/client.js';
import { probeEnforcement, probeUserdataExposure, type Enforcement, type Exposure } from '../comfy/enforcement.js';
import { listRuns, runsFile } from '../comfy/runs.js';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import type { ContainerStatus, DockerPing, GpuReport, LoginNodeReport } from '../contract/ops/container.js';
import type { RunRecord } from '../contract/ops/generate.js';
import type { TokenAudit } from '../contract/ops/tokens.js';
import { pingDocker } from '../docker/connection.js';
import type { LoginNodeRuns } from '../docker/login-node.js';
import { resolveEnvRoot } from '../env/root.js';
import { ContainerManager } from '../docker/manager.js';
import { GatewayManager } from '../docker/gateway.js';
import type { GatewayOverview } from '../contract/ops/gateway.js';
import { auditCredential } from '../tokens/audit.js';
import type { Credential } from '../tokens/credential.js';
import { configuredLocations } from '../tokens/actions.js';
import { openVault, type VaultKeys } from '../tokens/vault.js';

export interface SweepDeps {
  config: PanelConfig;
  paths: PanelPaths;
  /** The config file in use: relative env paths resolve beside it when env.root is unset. */
  configFile: string;
  env?: NodeJS.ProcessEnv;
  /** The runtime's vault key store (default: the 0600 key file). */
  vaultKeys?: VaultKeys;
  /** The runtime's memory of ComfyUI-Login per container run (default: none kept across sweeps). */
  loginNodeRuns?: LoginNodeRuns;
}

/**
 * The lookups of one sweep, each done at most once and shared by every check that needs
 * it (one ping, one container status, one credential read, one probe per token). A retry
 * gets a fresh context so it sees the world anew.
 */
export class SweepContext {
  readonly config: PanelConfig;
  readonly paths: PanelPaths;
  readonly configFile: string;
  /** The instance's env root (env/root.ts: env.root, else the config file's folder). */
  readonly envRoot: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly vaultKeys: VaultKeys | undefined;
  private readonly loginNodeRuns: LoginNodeRuns | undefined;
  private readonly memo = new Map<string, Promise<unknown>>();
  private managerInstance: ContainerManager | undefined;

  constructor(deps: SweepDeps) {
    this.config = deps.config;
    this.paths = deps.paths;
    this.env = deps.env ?? process.env;
    this.vaultKeys = deps.vaultKeys;
    this.loginNodeRuns = deps.loginNodeRuns;
    this.configFile = deps.configFile;
    this.envRoot = resolveEnvRoot(deps.config.env, deps.configFile);
  }

  private once<T>(key: string, lookup: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = Promise.resolve().then(lookup);
      p.catch(() => undefined); // a rejection is read by the checks that await it
      this.memo.set(key, p);
    }
    return p;
  }

  get manager(): ContainerManager {
    return (this.managerInstance ??= new ContainerManager(this.config, undefined, this.loginNodeRuns));
  }

  /** The gateway container and what it hides (only asked when config gateway.enabled). */
  gateway(): Promise<GatewayOverview> {
    return this.once('gateway', () => this.gatewayManager().status());
  }

  gatewayManager(): GatewayManager {
    return new GatewayManager(this.config, { dataDir: this.paths.dataDir }, this.manager.docker, this.env);
  }

  ping(): Promise<DockerPing> {
    return this.once('ping', () => pingDocker(this.config, this.env));
  }

  /** Rejects with a DockerError when the engine cannot be asked. */
  containerStatus(): Promise<ContainerStatus> {
    return this.once('status', () => this.manager.status());
  }

  /**
   * Why the container cannot be examined right now (engine unreachable, absent, not
   * running), or undefined when it runs. Checks that need a running container report
   * `unknown` with this, leaving the red to the check that owns the cause.
   */
  async containerUnavailable(): Promise<string | undefined> {
    const ping = await this.ping();
    if (!ping.ok) return 'the Docker engine is not reachable';
    try {
      const s = await this.containerStatus();
      if (!s.exists) return `container ${s.name} does not exist`;
      if (['stopped', 'crashed', 'created'].includes(s.phase)) return `container ${s.name} is ${s.phase}`;
      return undefined;
    } catch {
      return `container ${this.config.container.name} cannot be inspected`;
    }
  }

  /** The three facts; with the vault's token, "enforced" also sees a node that answers tokens with a redirect. */
  loginNode(): Promise<LoginNodeReport> {
    return this.once('login-node', async () => this.manager.verifyLoginNode({ token: (await this.credential())?.hash }));
  }

  /** Whether comfyui.url really enforces a password for scripts (anonymous, empty token, Bearer, CORS origin). */
  enforcement(): Promise<Enforcement> {
    return this.once('enforcement', async () => {
      const token = (await this.credential())?.hash;
      return probeEnforcement(this.config.comfyui.url, { ...(token ? { token } : {}), timeoutMs: this.config.comfyui.timeoutMs });
    });
  }

  /** Whether anonymous user-data .js/.css requests pass ComfyUI-Login at comfyui.url (reads a name that does not exist). */
  userdataExposure(): Promise<Exposure> {
    return this.once('userdata-exposure', () => probeUserdataExposure(this.config.comfyui.url, this.config.comfyui.timeoutMs));
  }

  gpu(): Promise<GpuReport> {
    return this.once('gpu', () => this.manager.gpu());
  }

  /** The vault's current credential (SECRET), or undefined before one exists. */
  credential(): Promise<Credential | undefined> {
    return this.once('credential', () => openVault(this.config, this.paths, this.vaultKeys).read().then((s) => s?.current));
  }

  /** GET /system_stats with this token (undefined: anonymous); one request per token per sweep. */
  probe(token: string | undefined): Promise<ProbeResult> {
    return this.once(`probe:${token ?? ''}`, () => probeAuth(this.config.comfyui.url, token, this.config.comfyui.timeoutMs));
  }

  systemStats(): Promise<SystemStats> {
    return this.once('system-stats', async () => {
      const cred = await this.credential();
      return new ComfyClient({ baseUrl: this.config.comfyui.url, token: cred?.hash, timeoutMs: this.config.comfyui.timeoutMs }).systemStats();
    });
  }

  /** Every configured copy of the credential against the vault; live facts reuse this sweep's probes. */
  tokenAudit(): Promise<TokenAudit> {
    return this.once('token-audit', () =>
      auditCredential({
        vault: openVault(this.config, this.paths, this.vaultKeys),
        locations: configuredLocations(this.config, { container: this.manager, envRoot: this.envRoot }),
        server: { probe: (token) => this.probe(token) },
      }),
    );
  }

  /** The newest generation runs, newest first. */
  recentRuns(limit = 20): Promise<RunRecord[]> {
    return this.once('runs', () => listRuns(runsFile(this.paths), limit));
  }
}
