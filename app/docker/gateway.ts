/**
 * The gateway container of one deployment (config `gateway`), managed exactly like the ComfyUI
 * container: the same ContainerManager lifecycle, state, waits and logs, with the gateway's own
 * recipe. It sits on the deployment's private network beside ComfyUI and is the only published
 * port. Takes the config and the deployment's data folder: one per instance once the fleet lands.
 */
import { chownSync, existsSync, mkdirSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { GatewayOverview } from '../contract/ops/gateway.js';
import { withDeadline } from '../deadline.js';
import { ConfigError } from '../errors.js';
import { gatewayStateDir, gatewayUrl } from '../gateway/deployment.js';
import { KEY_STORE_FILE, storePath } from '../gateway/keys.js';
import type { GatewayState } from '../gateway/state.js';
import { USAGE_DIR, USAGE_FILE } from '../gateway/usage.js';
import { readArchiveFiles } from './archive.js';
import { resolveDockerTarget } from './connection.js';
import { ContainerManager, type ContainerRecipe } from './manager.js';
import { removeNetworkIfUnused } from './network.js';
import { healthLabel, LABEL_MANAGED, LABEL_SPEC_HASH, mountLabel, NS_PER_SEC, portLabel, specHash, type SpecView } from './spec.js';

/** The port the gateway listens on inside its container (the image's GATEWAY_PORT). */
export const GATEWAY_CONTAINER_PORT = 8189;
const STATE_TARGET = '/state';
/** The secret file's folder is mounted, not the file: a rotation's rename is then seen inside. */
const SECRET_DIR_TARGET = '/run/secrets/panel';
const HEALTH_COMMAND = ['node', '/app/healthcheck.mjs'];

/** The user the gateway runs as: the owner of the secret it must read, else the panel's own user (1000 for root). */
function runUser(secretFile: string | undefined): { uid: number; gid: number } {
  if (secretFile && existsSync(secretFile)) {
    const st = statSync(secretFile);
    if (st.uid !== 0) return { uid: st.uid, gid: st.gid };
  }
  const uid = process.getuid?.() ?? 1000;
  return uid === 0 ? { uid: 1000, gid: 1000 } : { uid, gid: process.getgid?.() ?? uid };
}

export class GatewayManager {
  /** The gateway container. */
  readonly container: ContainerManager;
  /** The ComfyUI container behind it, for the upstream half of the status. */
  readonly comfy: ContainerManager;
  readonly stateDir: string;
  /** The named volume holding the gateway's state on the engine; undefined: stateDir is bind-mounted. */
  readonly stateVolume: string | undefined;
  /** Where the panel's key writes and usage reads go (app/gateway/state.ts). */
  readonly state: GatewayState;
  readonly url: string;

  constructor(
    private readonly config: PanelConfig,
    dirs: { dataDir: string },
    docker?: Docker,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.stateDir = gatewayStateDir(config.gateway, dirs.dataDir);
    // A host path names a folder on the engine's machine: only a local socket is this machine.
    const remote = !/^(unix|npipe):/.test(resolveDockerTarget(config, env).host);
    this.stateVolume = config.gateway.stateVolume ?? (remote ? `${config.gateway.name}-state` : undefined);
    this.state = this.stateVolume ? { dir: this.stateDir, publish: () => this.publishKeys(), refresh: () => this.pullUsage() } : { dir: this.stateDir };
    this.url = gatewayUrl(config.gateway);
    this.comfy = new ContainerManager(config, docker, undefined, env);
    this.container = new ContainerManager(config, docker ?? this.comfy.docker, undefined, env, this.recipe());
  }

  get upstreamUrl(): string {
    return `http://${this.config.gateway.upstreamAlias}:${this.config.container.containerPort}`;
  }

  private secretFile(): string | undefined {
    const f = this.config.container.secretFile;
    if (f && !path.isAbsolute(f)) throw new ConfigError(`container.secretFile must be an absolute host path, got "${f}"`, 'Docker bind mounts need absolute paths; write the full path in the config.');
    return f;
  }

  private view(): SpecView {
    const g = this.config.gateway;
    const h = g.healthcheck;
    const secret = this.secretFile();
    return {
      image: g.image,
      command: null,
      env: { GATEWAY_UPSTREAM: this.upstreamUrl, ...(secret ? { GATEWAY_SECRET_FILE: `${SECRET_DIR_TARGET}/${path.basename(secret)}` } : {}) },
      ports: [portLabel(g.bindAddress, g.hostPort, `${GATEWAY_CONTAINER_PORT}/tcp`)],
      mounts: [mountLabel(this.stateVolume ? `volume:${this.stateVolume}` : this.stateDir, STATE_TARGET, false), ...(secret ? [mountLabel(path.dirname(secret), SECRET_DIR_TARGET, true)] : [])].sort(),
      gpus: 'none',
      restartPolicy: g.restartPolicy,
      healthcheck: healthLabel(['CMD', ...HEALTH_COMMAND], h.intervalSec, h.timeoutSec, h.retries, h.startPeriodSec),
      user: (({ uid, gid }) => `${uid}:${gid}`)(runUser(secret)),
      network: g.network,
    };
  }

  private recipe(): ContainerRecipe {
    const g = this.config.gateway;
    return {
      name: g.name,
      image: g.image,
      stopTimeoutSec: g.stopTimeoutSec,
      desiredView: () => this.view(),
      beforeCreate: () => this.prepareStateDir(),
      createSpec: () => {
        const view = this.view();
        const secret = this.secretFile();
        const h = g.healthcheck;
        const user = runUser(secret);
        const portKey = `${GATEWAY_CONTAINER_PORT}/tcp`;
        return {
          name: g.name,
          Image: g.image,
          User: `${user.uid}:${user.gid}`,
          Env: Object.entries(view.env).map(([k, v]) => `${k}=${v}`),
          ExposedPorts: { [portKey]: {} },
          StopTimeout: g.stopTimeoutSec,
          Labels: { [LABEL_MANAGED]: 'true', [LABEL_SPEC_HASH]: specHash(view), 'io.comfy-panel.role': 'gateway' },
          Healthcheck: { Test: ['CMD', ...HEALTH_COMMAND], Interval: h.intervalSec * NS_PER_SEC, Timeout: h.timeoutSec * NS_PER_SEC, Retries: h.retries, StartPeriod: h.startPeriodSec * NS_PER_SEC },
          NetworkingConfig: { EndpointsConfig: { [g.network]: {} } },
          HostConfig: {
            NetworkMode: g.network,
            PortBindings: { [portKey]: [{ HostIp: g.bindAddress, HostPort: String(g.hostPort) }] },
            Mounts: [
              // A new volume starts as a copy of the image's /state (owned by its user, 0700).
              this.stateVolume ? { Type: 'volume' as const, Source: this.stateVolume, Target: STATE_TARGET, ReadOnly: false } : { Type: 'bind' as const, Source: this.stateDir, Target: STATE_TARGET, ReadOnly: false },
              ...(secret ? [{ Type: 'bind' as const, Source: path.dirname(secret), Target: SECRET_DIR_TARGET, ReadOnly: true }] : []),
            ],
            RestartPolicy: { Name: g.restartPolicy },
          },
        };
      },
    };
  }

  /** The state folder exists and belongs to the gateway's user (it writes usage/ and its session key there). */
  private prepareStateDir(): void {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) {
      const user = runUser(this.secretFile());
      chownSync(this.stateDir, user.uid, user.gid);
    }
  }

  /** Creates the network and the container if absent and starts it; a volume gets the current keys before the gateway reads them. */
  async up() {
    if (this.stateVolume && (await this.container.state()).phase === 'absent') {
      await this.container.create();
      await this.publishKeys();
    }
    return this.container.start();
  }

  /**
   * keys.json from stateDir into the gateway's volume, through the archive API of its container
   * (running or not); none yet: `up` copies it after creating the container. The gateway's
   * reload keeps its last good store if it catches the file half-written and reads it again
   * on the next change, so a revocation still lands within its 250 ms poll.
   */
  private async publishKeys(): Promise<void> {
    if ((await this.container.state()).phase === 'absent') return;
    const text = await fs.readFile(storePath(this.stateDir)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (text) await this.container.writeFile(`${STATE_TARGET}/${KEY_STORE_FILE}`, text, 0o644);
  }

  /** The gateway's usage log from its volume into stateDir/usage, where `key usage` and the page read it. */
  private async pullUsage(): Promise<void> {
    const archive = await this.container.docker
      .getContainer(this.config.gateway.name)
      .getArchive({ path: `${STATE_TARGET}/${USAGE_DIR}` })
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode === 404) return undefined; // no container, or no usage yet: what is here stays
        throw e;
      });
    if (!archive) return;
    const dir = path.join(this.stateDir, USAGE_DIR);
    await fs.mkdir(dir, { recursive: true });
    for (const f of await readArchiveFiles(archive)) {
      const name = path.posix.basename(f.name);
      if (USAGE_FILE.test(name)) await fs.writeFile(path.join(dir, name), f.data, { mode: 0o644 });
    }
  }

  /** Stops the gateway (clients get connection refused); with remove also the container and an unused network. */
  async down(opts: { remove?: boolean } = {}) {
    if (!opts.remove) return this.container.stop();
    const s = await this.container.remove();
    await removeNetworkIfUnused(this.container.docker, this.config.gateway.network).catch(() => false);
    return s;
  }

  private async reachable(): Promise<boolean> {
    try {
      return await withDeadline(this.config.comfyui.timeoutMs, async (signal) => {
        const res = await fetch(new URL('/_gateway/health', this.url), { signal });
        await res.body?.cancel();
        return res.status === 200;
      });
    } catch {
      return false;
    }
  }

  async status(): Promise<GatewayOverview> {
    const g = this.config.gateway;
    const [container, comfy, reachable] = await Promise.all([this.container.state(), this.comfy.status(), this.reachable()]);
    const attached = comfy.exists
      ? await this.container.docker
          .getContainer(comfy.name)
          .inspect()
          .then((i) => i.NetworkSettings.Networks ?? {})
          .catch(() => ({}))
      : {};
    const networks = Object.keys(attached);
    const ip = (attached as Record<string, { IPAddress?: string }>)[g.network]?.IPAddress;
    const directUrl = ip ? `http://${ip}:${this.config.container.containerPort}` : null;
    const publishedPorts = comfy.ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`);
    const problems: string[] = [];
    if (!g.enabled) problems.push('the gateway is not enabled in the config (gateway.enabled): ComfyUI is not behind it');
    if (container.phase !== 'healthy') problems.push(`the gateway container ${g.name} is ${container.phase}: \`comfy-panel gateway up\``);
    else if (!reachable) problems.push(`the gateway does not answer at ${this.url} (gateway.bindAddress/hostPort?)`);
    if (comfy.exists && !networks.includes(g.network)) problems.push(`ComfyUI (${comfy.name}) is not on the network ${g.network}: \`comfy-panel container recreate\` moves it behind the gateway`);
    if (publishedPorts.length) problems.push(`ComfyUI still publishes ${publishedPorts.join(', ')}, around the gateway: \`comfy-panel container recreate\` removes it`);
    return {
      url: this.url,
      state: container.phase,
      container,
      reachable,
      upstream: { url: this.upstreamUrl, container: comfy.name, state: comfy.phase, onNetwork: networks.includes(g.network), publishedPorts, directUrl },
      problems,
    };
  }
}
