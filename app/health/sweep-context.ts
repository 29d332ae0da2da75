import { askSystemStats, probeResultOf, systemStatsOf, type ProbeResult, type StatsAsked, type SystemStats } from '../comfy/client.js';
import {
  enforcementAnswer,
  enforcementRequest,
  probeEnforcement,
  probeUserdataExposure,
  type Enforcement,
  type EnforcementQuestion,
  type Exposure,
} from '../comfy/enforcement.js';
import { listRuns, runsFile } from '../comfy/runs.js';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import type { ContainerStatus, DockerPing, GpuReport, LoginNodeReport } from '../contract/ops/container.js';
import type { RunRecord } from '../contract/ops/generate.js';
import type { TokenAudit } from '../contract/ops/tokens.js';
import { pingDocker, type EnginePings } from '../docker/connection.js';
import type { ContainerMemory } from '../docker/memory.js';
import { resolveEnvRoot } from '../env/root.js';
import { ContainerManager } from '../docker/manager.js';
import { GatewayManager } from '../docker/gateway.js';
import type { GatewayOverview } from '../contract/ops/gateway.js';
import { auditCredential } from '../tokens/audit.js';
import type { Credential } from '../tokens/credential.js';
import { configuredLocations } from '../tokens/actions.js';
import { openVault, type VaultKeys, type VaultState } from '../tokens/vault.js';

export interface SweepDeps {
  config: PanelConfig;
  paths: PanelPaths;
  /** The config file in use: relative env paths resolve beside it when env.root is unset. */
  configFile: string;
  env?: NodeJS.ProcessEnv;
  /** The runtime's vault key store (default: the 0600 key file). */
  vaultKeys?: VaultKeys;
  /** The runtime's memory of its container (ComfyUI-Login per run, file reads; default: none kept across sweeps). */
  containerMemory?: ContainerMemory;
  /** The fleet's pings in flight, shared by instances on one engine (default: this sweep pings alone). */
  enginePings?: EnginePings;
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
  private readonly containerMemory: ContainerMemory | undefined;
  private readonly enginePings: EnginePings | undefined;
  private readonly memo = new Map<string, Promise<unknown>>();
  private managerInstance: ContainerManager | undefined;

  constructor(deps: SweepDeps) {
    this.config = deps.config;
    this.paths = deps.paths;
    this.env = deps.env ?? process.env;
    this.vaultKeys = deps.vaultKeys;
    this.containerMemory = deps.containerMemory;
    this.enginePings = deps.enginePings;
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
    return (this.managerInstance ??= new ContainerManager(this.config, undefined, this.containerMemory));
  }

  /** The gateway container and what it hides (only asked when config gateway.enabled). */
  gateway(): Promise<GatewayOverview> {
    return this.once('gateway', () => this.gatewayManager().status());
  }

  gatewayManager(): GatewayManager {
    return new GatewayManager(this.config, { dataDir: this.paths.dataDir }, this.manager.docker, this.env);
  }

  ping(): Promise<DockerPing> {
    return this.once('ping', () => (this.enginePings ? this.enginePings.ping(this.config, this.env) : pingDocker(this.config, this.env)));
  }

  /** The one inspect of the sweep and the status made from it; rejects with a DockerError when the engine cannot be asked. */
  private examined(): ReturnType<ContainerManager['examine']> {
    return this.once('examine', () => this.manager.examine());
  }

  containerStatus(): Promise<ContainerStatus> {
    return this.examined().then((e) => e.status);
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
    return this.once('login-node', async () =>
      this.manager.verifyLoginNode({ known: await this.examined(), token: (await this.credential())?.hash, enforcement: (base) => this.enforcementAt(base) }),
    );
  }

  /** Whether comfyui.url really enforces a password for scripts (anonymous, empty token, Bearer, CORS origin). */
  enforcement(): Promise<Enforcement> {
    return this.enforcementAt(this.config.comfyui.url);
  }

  /** The enforcement questions of one address, answered from the sweep's requests: the published port is usually comfyui.url itself. */
  private async enforcementAt(baseUrl: string): Promise<Enforcement> {
    const token = (await this.credential())?.hash;
    const answer = async (question: EnforcementQuestion) => {
      const asked = await this.asked(baseUrl, question, token);
      if (!asked.answer) throw asked.error;
      return enforcementAnswer(asked.answer);
    };
    return probeEnforcement(baseUrl, { ...(token ? { token } : {}), timeoutMs: this.config.comfyui.timeoutMs, answer });
  }

  /**
   * GET /system_stats at an address, asked one way (enforcement.ts), once a sweep: the enforcement
   * questions, the token probes and the stats read the same answers (three requests, not nine).
   */
  private asked(baseUrl: string, question: EnforcementQuestion, token: string | undefined): Promise<StatsAsked> {
    const r = enforcementRequest(baseUrl, question, token);
    return this.once(`ask:${r.url}:${r.headers.authorization ?? ''}`, () => askSystemStats(r.url, r.headers, this.config.comfyui.timeoutMs));
  }

  /** The answer comfyui.url gives this token (undefined: anonymous). */
  private askedWith(token: string | undefined): Promise<StatsAsked> {
    return this.asked(this.config.comfyui.url, token === undefined ? 'anonymous' : 'bearer', token);
  }

  /** Whether anonymous user-data .js/.css requests pass ComfyUI-Login at comfyui.url (reads a name that does not exist). */
  userdataExposure(): Promise<Exposure> {
    return this.once('userdata-exposure', () => probeUserdataExposure(this.config.comfyui.url, this.config.comfyui.timeoutMs));
  }

  gpu(): Promise<GpuReport> {
    return this.once('gpu', async () => this.manager.gpu({ info: (await this.examined()).info }));
  }

  /** The vault's current credential (SECRET), or undefined before one exists. */
  credential(): Promise<Credential | undefined> {
    return this.vaultState().then((s) => s?.current);
  }

  /** The vault as this sweep read it, once: the credential and the token audit share it (SECRET). */
  private vaultState(): Promise<VaultState | undefined> {
    return this.once('vault', () => openVault(this.config, this.paths, this.vaultKeys).read());
  }

  /** GET /system_stats with this token (undefined: anonymous); one request per token per sweep. */
  probe(token: string | undefined): Promise<ProbeResult> {
    return this.askedWith(token).then((asked) => probeResultOf(asked, token !== undefined, this.config.comfyui.timeoutMs));
  }

  systemStats(): Promise<SystemStats> {
    return this.once('system-stats', async () => {
      const token = (await this.credential())?.hash;
      return systemStatsOf(await this.askedWith(token), token !== undefined, this.config.comfyui.timeoutMs);
    });
  }

  /** Every configured copy of the credential against the vault; live facts reuse this sweep's probes. */
  tokenAudit(): Promise<TokenAudit> {
    return this.once('token-audit', () =>
      auditCredential({
        vault: openVault(this.config, this.paths, this.vaultKeys),
        state: this.vaultState(),
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
