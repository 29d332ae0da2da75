import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import type { PanelConfig } from '../config/schema.js';
import type { LogLine } from '../contract/events.js';
import type {
  AdoptReport,
  BuildResult,
  ComposeApplyResult,
  ContainerOverview,
  ContainerPhase,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  GpuReport,
  LoginNodeReport,
  RecreateResult,
  SpecChange,
} from '../contract/ops/container.js';
import { PanelError } from '../errors.js';
import { composeOrigin, composeRecreateCommand, composeVersion, runComposeCommand, type ComposeCommand } from './compose.js';
import { archiveEntry, packFile, readArchiveFile, type ArchiveFile } from './archive.js';
import { buildImage, type BuildOptions } from './build.js';
import { connectDocker, type DockerTarget } from './connection.js';
import { withDeadlines } from './deadline.js';
import { DockerDemux, type Chunk } from './demux.js';
import { pumpLogLines } from './log-lines.js';
import { checkLoginNode, type LoginNodeOptions } from './login-node.js';
import { ContainerMemory, type PathStat, type StatAt } from './memory.js';
import { classifyDockerError, DockerError, toDockerError } from './problems.js';
import { cpuPercent, gpuReport, memoryUsed } from './resources.js';
import { ensureNetwork } from './network.js';
import { buildCreateSpec, desiredView, diffViews, LABEL_MANAGED, LABEL_SPEC_HASH, observedView, specHash, type SpecView } from './spec.js';
import { absentStatus, cleanExit, stateOf, statusOf, unknownStatus } from './state.js';
import { watchContainer } from './watch.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface LogsOptions {
  /** Lines from the end to start with; 'all' for everything. Default 200. */
  tail?: number | 'all';
  follow?: boolean;
  /** Only lines since this time; 'start': since the container's current run began (whatever tail says). */
  since?: Date | 'start';
  onLine: (line: LogLine) => void | Promise<void>;
  signal?: AbortSignal;
  /** The container's inspect when the caller has just made one (saves a request). */
  inspected?: Docker.ContainerInspectInfo;
}

interface HttpError {
  statusCode?: number;
}

/** The entrypoint of recreate's probe container: a path no image has, see precheck(). */
const PROBE_ENTRYPOINT = '/comfy-panel-precheck-probe';
const LABEL_PRECHECK = 'io.comfy-panel.precheck-of';

/** Whether the container was given a GPU: a device request for GPUs, or the NVIDIA runtime. */
function wantsGpu(info: Docker.ContainerInspectInfo): boolean {
  const requests = (info.HostConfig as { DeviceRequests?: { Driver?: string; Capabilities?: string[][] }[] | null }).DeviceRequests ?? [];
  return info.HostConfig.Runtime === 'nvidia' || requests.some((r) => r.Driver === 'nvidia' || (r.Capabilities ?? []).some((c) => c.includes('gpu')));
}

/** Docker's zero StartedAt: the container was created and never ran. */
const neverStarted = (info: Docker.ContainerInspectInfo) => !(Date.parse(info.State.StartedAt) > 0);

/** A start failure of a container that differs from the config: the fix says to recreate it first. */
function withStaleHint(err: unknown, name: string, changes: SpecChange[]): unknown {
  if (!(err instanceof DockerError)) return err;
  const fields = [...new Set(changes.map((c) => c.field))].join(', ');
  return new DockerError(
    { ...err.problem, fix: `${name} was created with other settings than the config (${fields}): \`comfy-panel container recreate\` applies the config. ${err.problem.fix}` },
    { cause: err },
  );
}
const statusCodeOf = (e: unknown) => (e as HttpError | undefined)?.statusCode;

/** Reads a whole stream into one Buffer. */
async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * What a managed container is made of. The ComfyUI container's comes from config.container;
 * the gateway beside it (app/docker/gateway.ts) passes its own, so both share one lifecycle.
 */
export interface ContainerRecipe {
  name: string;
  image: string;
  stopTimeoutSec: number;
  createSpec(): Docker.ContainerCreateOptions;
  desiredView(): SpecView;
  /** Fails with a clear error when something the container needs is missing (a secret file). */
  beforeCreate?(): void;
}

/**
 * The one container the panel manages (config container.*): lifecycle, state, files,
 * logs and checks. Every Docker failure surfaces as a DockerError with a kind and a fix.
 */
export class ContainerManager {
  readonly name: string;
  /** Short calls: bounded by config docker.timeoutMs. */
  readonly docker: Docker;
  /** Streams and long waits (events, follow, create, start, stop, build): no idle timeout. */
  private readonly streaming: Docker;
  readonly target?: DockerTarget;
  /** The last CPU sample per container run, for the CPU share between two stats() calls. */
  private lastCpu: { run: string; sample: Pick<Docker.ContainerStats['cpu_stats'], 'cpu_usage' | 'system_cpu_usage'> } | undefined;
  /** The last stats of a run, shown when a fresh sample takes longer than the overview may wait. */
  private lastStats: { run: string; stats: ContainerStats } | undefined;
  private readonly recipe: ContainerRecipe;

  constructor(
    private readonly config: PanelConfig,
    docker?: Docker,
    /** What is known about the container between calls (memory.ts); a runtime shares one across its managers. */
    private readonly memory = new ContainerMemory(),
    env: NodeJS.ProcessEnv = process.env,
    recipe?: ContainerRecipe,
  ) {
    this.recipe = recipe ?? {
      name: config.container.name,
      image: config.container.image,
      stopTimeoutSec: config.container.stopTimeoutSec,
      createSpec: () => buildCreateSpec(config),
      desiredView: () => desiredView(config),
      beforeCreate: () => this.checkSecretFile(),
    };
    this.name = this.recipe.name;
    if (docker) {
      // A client handed in (tests, the service) gets the same deadlines as one made here.
      this.docker = withDeadlines(docker, config.docker.timeoutMs);
      this.streaming = this.docker;
    } else {
      const c = connectDocker(config, env);
      this.docker = c.docker;
      this.streaming = c.streaming;
      this.target = c.target;
    }
  }

  private fail(err: unknown): PanelError {
    return toDockerError(err, { host: this.target?.host, container: this.name, image: this.recipe.image });
  }

  private async inspect(): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(this.name).inspect();
    } catch (e) {
      if (statusCodeOf(e) === 404) return undefined;
      throw this.fail(e);
    }
  }

  private async inspectOrFail(): Promise<Docker.ContainerInspectInfo> {
    const info = await this.inspect();
    if (!info) throw this.fail(Object.assign(new Error(`No such container: ${this.name}`), { statusCode: 404 }));
    return info;
  }

  /**
   * Did the last exit follow a stop or kill request? Docker keeps recent events, so a
   * `kill`/`stop` between start and exit tells a deliberate stop from a crash even when
   * another process (or the docker CLI) stopped it.
   */
  private async stoppedDeliberately(info: Docker.ContainerInspectInfo): Promise<boolean> {
    if (info.State.Running || cleanExit(info.State.ExitCode) || info.State.Status === 'created') return false;
    const startedMs = Date.parse(info.State.StartedAt);
    const since = Math.floor(startedMs / 1000);
    const until = Math.ceil(Date.parse(info.State.FinishedAt) / 1000) + 1;
    try {
      const stream = await this.docker.getEvents({ since, until, filters: { container: [info.Id], event: ['kill', 'stop'] } });
      const events = (await collect(stream))
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { timeNano?: number; time?: number });
      // `since` has whole seconds: drop a kill that ended the previous run within the same second.
      return events.some((e) => (e.timeNano ? e.timeNano / 1e6 : (e.time ?? 0) * 1000) >= startedMs);
    } catch {
      return false;
    }
  }

  async status(): Promise<ContainerStatus> {
    return this.statusOf(await this.inspect());
  }

  /** The status and the inspect it was made from, for callers that pass both on (no second inspect). */
  async examine(): Promise<{ status: ContainerStatus; info: Docker.ContainerInspectInfo | undefined }> {
    const info = await this.inspect();
    return { status: await this.statusOf(info), info };
  }

  /** The status from an inspect already made (undefined: no such container). */
  private async statusOf(info: Docker.ContainerInspectInfo | undefined): Promise<ContainerStatus> {
    if (!info) return absentStatus(this.name);
    return statusOf(this.name, info, await this.stoppedDeliberately(info));
  }

  async state(): Promise<ContainerState> {
    return stateOf(await this.status());
  }

  /** On a local engine, say what to do instead of Docker's "bind source path does not exist". */
  private checkSecretFile(): void {
    const secretFile = this.config.container.secretFile;
    if (secretFile && /^(unix|npipe):/.test(this.target?.host ?? 'unix:') && !existsSync(secretFile)) {
      throw new PanelError(
        `the secret file ${secretFile} (container.secretFile) does not exist yet`,
        'secret-file-missing',
        'Create the credential first: `comfy-panel token init` (a new one, which also starts the container) or `comfy-panel token import` (an existing one).',
      );
    }
  }

  async create(): Promise<ContainerState> {
    this.recipe.beforeCreate?.();
    const spec = this.recipe.createSpec();
    try {
      await this.prepareNetwork(spec);
      // Create and start can take longer than a short call (copying the image's layers, GPU and
      // network setup on a busy engine): the client without the idle timeout, like stop.
      await this.streaming.createContainer(spec);
    } catch (e) {
      throw this.fail(e);
    }
    return this.state();
  }

  /** A private network the spec names (the gateway's) is made on first use, like the container itself. */
  private async prepareNetwork(spec: Docker.ContainerCreateOptions): Promise<void> {
    const network = spec.HostConfig?.NetworkMode;
    if (network && !['default', 'bridge', 'host', 'none'].includes(network) && !network.startsWith('container:')) await ensureNetwork(this.docker, network);
  }

  /** Runs one lifecycle call; 304 (already in that state) is success. Returns the new state. */
  private async lifecycle(call: (c: Docker.Container) => Promise<unknown>, client = this.docker): Promise<ContainerState> {
    try {
      await call(client.getContainer(this.name));
    } catch (e) {
      if (statusCodeOf(e) !== 304) throw this.fail(e);
    }
    return this.state();
  }

  /**
   * Creates the container if absent, then starts it (already running is fine). A container the
   * panel created that never started (a failed start left it Created) and no longer matches
   * the config is created again first: nothing ran in it, and starting the old one would fail
   * the same way (e.g. a GPU request after container.gpus was set to "none").
   */
  async start(): Promise<ContainerState> {
    const info = await this.inspect();
    if (!info) await this.create();
    const stale = info ? await this.staleChanges(info) : [];
    if (info && stale.length && info.Config.Labels?.[LABEL_MANAGED] === 'true' && neverStarted(info)) {
      await this.docker.getContainer(info.Id).remove({ force: true }).catch((e: unknown) => {
        throw this.fail(e);
      });
      await this.create();
    } else if (stale.length) {
      // Someone else's container, or one that ran: not replaced unasked, but a failure says why.
      try {
        return await this.lifecycle((c) => c.start(), this.streaming);
      } catch (e) {
        throw withStaleHint(e, this.name, stale);
      }
    }
    return this.lifecycle((c) => c.start(), this.streaming);
  }

  /** What differs from the config, for a container that is not running (running ones are left alone). */
  private async staleChanges(info: Docker.ContainerInspectInfo): Promise<SpecChange[]> {
    if (info.State.Running) return [];
    return this.diffSpec().catch(() => []);
  }

  /** SIGTERM, then SIGKILL after config stopTimeoutSec (Docker's stop does both). */
  async stop(): Promise<ContainerState> {
    await this.inspectOrFail();
    return this.lifecycle((c) => c.stop({ t: this.recipe.stopTimeoutSec }), this.streaming);
  }

  async restart(): Promise<ContainerState> {
    await this.inspectOrFail();
    return this.lifecycle((c) => c.restart({ t: this.recipe.stopTimeoutSec }), this.streaming);
  }

  /** Stops gracefully, then removes; absent is fine. */
  async remove(): Promise<ContainerState> {
    const info = await this.inspect();
    if (info) {
      if (info.State.Running) await this.stop();
      try {
        await this.docker.getContainer(this.name).remove({ force: true });
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw this.fail(e);
      }
    }
    return this.state();
  }

  /** What differs between the configuration and the existing container (empty: nothing). */
  async diffSpec(): Promise<SpecChange[]> {
    const info = await this.inspectOrFail();
    const desired = this.recipe.desiredView();
    const image = await this.docker
      .getImage(info.Image)
      .inspect()
      .catch(() => undefined);
    const changes = diffViews(observedView(info, image?.Config, this.config.container.tokenEnvKeys), desired);
    const label = info.Config.Labels?.[LABEL_SPEC_HASH];
    if (changes.length === 0 && label !== undefined && label !== specHash(desired)) {
      changes.push({ field: 'spec-hash', from: label, to: specHash(desired) });
    }
    return changes;
  }

  /**
   * Replaces the container when the configuration changed. The old one is renamed aside
   * and only removed once the new one started; on failure it is put back.
   */
  async recreate(opts: { force?: boolean } = {}): Promise<RecreateResult> {
    const info = await this.inspectOrFail();
    const changes = await this.diffSpec();
    if (changes.length === 0) return { recreated: false, changes, state: await this.state() };
    const compose = composeOrigin(info.Config.Labels);
    if (compose && !opts.force) {
      throw new PanelError(
        `${this.name} belongs to compose project "${compose.project}"; recreating it from the panel detaches it from compose`,
        'container-compose-owned',
        `Change the compose file (${compose.configFiles.join(', ') || 'compose.yaml'}) to match, then apply it through compose: ${composeRecreateCommand(compose, this.target?.source === 'default' ? undefined : this.target?.host).text}`,
      );
    }
    // Everything that can fail without stopping anything fails here, while the old one still serves.
    await this.precheck(info);
    const wasRunning = info.State.Running;
    const aside = `${this.name}-replaced-${Date.now()}`;
    const old = this.docker.getContainer(info.Id);
    try {
      if (wasRunning) await this.stop();
      await old.rename({ name: aside });
    } catch (e) {
      throw this.fail(e);
    }
    try {
      await this.create();
      if (wasRunning) await this.start();
    } catch (e) {
      await this.docker.getContainer(this.name).remove({ force: true }).catch(() => undefined);
      await old.rename({ name: this.name }).catch(() => undefined);
      if (wasRunning) await old.start().catch(() => undefined);
      throw e;
    }
    await old.remove({ force: true }).catch(() => undefined);
    return { recreated: true, changes, state: await this.state() };
  }

  /**
   * Checks what creating and starting the new container would run into, before the old one is
   * touched: the config builds a spec, the secret file and the image exist, and Docker itself
   * accepts the spec. For that last part a probe container with the new spec (mounts, GPUs,
   * ports) is created and started with an entrypoint that does not exist: Docker sets up mounts,
   * devices and ports first, so the only error left when all is well is the missing entrypoint.
   * The host port the old container holds is left out of the probe (it is freed by the stop).
   */
  async precheck(old?: Docker.ContainerInspectInfo): Promise<void> {
    const spec = this.recipe.createSpec();
    this.recipe.beforeCreate?.();
    const image = this.recipe.image;
    try {
      await this.docker.getImage(image).inspect();
    } catch (e) {
      throw this.fail(statusCodeOf(e) === 404 ? Object.assign(new Error(`No such image: ${image}`), { statusCode: 404 }) : e);
    }
    const oldPorts = new Set((old?.State.Running ? statusOf(this.name, old, false).ports : []).map((p) => `${p.hostIp}:${p.hostPort}`));
    const bindings = spec.HostConfig?.PortBindings as Record<string, { HostIp?: string; HostPort?: string }[]> | undefined;
    const probeBindings = Object.fromEntries(
      Object.entries(bindings ?? {}).map(([k, list]) => [k, list.filter((b) => !oldPorts.has(`${b.HostIp ?? ''}:${b.HostPort ?? ''}`) && !oldPorts.has(`0.0.0.0:${b.HostPort ?? ''}`))]),
    );
    await this.prepareNetwork(spec).catch((e: unknown) => {
      throw this.fail(e);
    });
    const probe = await this.streaming
      .createContainer({
        ...spec,
        name: `${this.name}-precheck-${Date.now()}`,
        Entrypoint: [PROBE_ENTRYPOINT],
        Cmd: [],
        Healthcheck: { Test: ['NONE'] },
        Labels: { [LABEL_PRECHECK]: this.name },
        HostConfig: { ...spec.HostConfig, PortBindings: probeBindings, RestartPolicy: { Name: 'no' } },
      })
      .catch((e: unknown) => {
        throw this.fail(e);
      });
    try {
      await probe.start();
    } catch (e) {
      if (!(e instanceof Error && e.message.includes(PROBE_ENTRYPOINT))) throw this.fail(e);
    } finally {
      await probe.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Takes an existing container as the managed one and says plainly what the panel can do with it. */
  async adopt(): Promise<AdoptReport> {
    const s = await this.status();
    if (!s.exists || !s.id) await this.inspectOrFail();
    const detach = s.compose ? `, which detaches it from compose project "${s.compose.project}"` : '';
    return {
      name: this.name,
      id: s.id ?? '',
      managed: s.managed,
      ...(s.compose ? { compose: s.compose } : {}),
      canChange: ['start, stop and restart it', 'read its logs, CPU, memory and GPU use', 'read and write files in it (e.g. login/PASSWORD)', 'verify the ComfyUI-Login node'],
      cannotChange: [`image, env, ports, mounts, GPUs, restart policy or healthcheck without recreating it${detach}`],
      differences: await this.diffSpec(),
      ...(s.compose ? { composeCommand: (await this.composeCommand()).text, composeAvailable: (await composeVersion()) !== undefined } : {}),
    };
  }

  /** The compose command that recreates this compose-made container from its project's files. */
  async composeCommand(): Promise<ComposeCommand> {
    const origin = composeOrigin((await this.inspectOrFail()).Config.Labels);
    if (!origin) throw new PanelError(`${this.name} was not made by docker compose`, 'container-not-compose', 'Use `comfy-panel container recreate` for it.');
    return composeRecreateCommand(origin, this.target?.source === 'default' ? undefined : this.target?.host);
  }

  /** Applies a change to a compose-made container the way compose does it (the caller asked the operator first). */
  async composeApply(): Promise<ComposeApplyResult> {
    const command = await this.composeCommand();
    const { output } = await runComposeCommand(command);
    return { command: command.text, output, state: await this.state() };
  }

  /** Emits the state now and on every transition, from Docker events. Returns the stop function. */
  watch(onState: (s: ContainerState) => void): () => void {
    return watchContainer({ name: this.name, events: this.streaming, state: () => this.state(), inspect: () => this.inspect() }, onState);
  }

  async waitFor(phase: ContainerPhase | ContainerPhase[], timeoutMs: number): Promise<ContainerState> {
    const wanted = Array.isArray(phase) ? phase : [phase];
    return new Promise((resolve, reject) => {
      let last: ContainerState | undefined;
      const stop = this.watch((s) => {
        last = s;
        if (!wanted.includes(s.phase)) return;
        clearTimeout(timer);
        stop();
        resolve(s);
      });
      const timer = setTimeout(() => {
        stop();
        reject(
          new PanelError(
            `${this.name} did not become ${wanted.join(' or ')} within ${Math.round(timeoutMs / 1000)} s (last: ${last?.phase ?? 'unknown'})`,
            'container-wait-timeout',
            'See `comfy-panel container logs` for why.',
          ),
        );
      }, timeoutMs);
    });
  }

  /** Reads one file from the container (running or not) through the archive API. */
  async readFile(pathInContainer: string): Promise<Buffer> {
    return (await this.readFileEntry(pathInContainer)).data;
  }

  /**
   * Docker's stat of a path (a HEAD on its archive: no tar is packed), with the engine's clock;
   * undefined when the path does not exist.
   */
  async statPath(pathInContainer: string): Promise<StatAt | undefined> {
    try {
      const res = (await this.docker.getContainer(this.name).infoArchive({ path: pathInContainer })) as IncomingMessage;
      res.resume();
      const header = String(res.headers['x-docker-container-path-stat'] ?? '');
      const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8') || '{}') as Partial<PathStat>;
      if (typeof stat.mode !== 'number') throw new PanelError(`Docker did not say what ${pathInContainer} is in container ${this.name}`, 'container-no-path-stat');
      return { stat: stat as PathStat, engineNow: Date.parse(String(res.headers.date ?? '')) };
    } catch (e) {
      if (statusCodeOf(e) === 404) return undefined;
      throw this.fail(e);
    }
  }

  /**
   * The file with its mode and owner from the tar header. A file read before whose stat has
   * not changed since comes from the runtime's memory (memory.ts: a read costs the engine far more).
   */
  async readFileEntry(pathInContainer: string): Promise<ArchiveFile> {
    const before = await this.statPath(pathInContainer).catch(() => undefined);
    const kept = before && this.memory.files.get(this.name, pathInContainer, before.stat);
    if (kept) return kept;
    try {
      const file = await readArchiveFile(await this.docker.getContainer(this.name).getArchive({ path: pathInContainer }), pathInContainer);
      if (before) this.memory.files.remember(this.name, pathInContainer, before, file);
      return file;
    } catch (e) {
      if (statusCodeOf(e) === 404 && (await this.inspect())) {
        throw new PanelError(`${pathInContainer} does not exist in container ${this.name}`, 'container-no-such-file');
      }
      throw this.fail(e);
    }
  }

  /**
   * Writes one file through the archive API, never through exec arguments (those show up
   * in `docker events`). The owner of an existing file is kept, else the folder's owner
   * is used, so a non-root server can still read it.
   */
  async writeFile(pathInContainer: string, data: Buffer | string, mode = 0o600): Promise<void> {
    const container = this.docker.getContainer(this.name);
    const dir = pathInContainer.replace(/\/[^/]*$/, '') || '/';
    const headerOf = async (p: string) =>
      container
        .getArchive({ path: p })
        .then(async (s) => { const h = await archiveEntry(s); return h && { uid: h.uid, gid: h.gid }; })
        .catch(() => undefined);
    const owner = (await headerOf(pathInContainer)) ?? (await headerOf(dir));
    const tar = await packFile(pathInContainer, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), mode, owner);
    try {
      // Docker keeps the tar header's owner as it is. copyUIDGID would instead chown to the container's
      // configured user, looked up in the engine host's passwd: "comfy" (the recipe's USER) or "1000:1000"
      // fails there with "getent unable to find entry".
      await container.putArchive(tar, { path: dir });
    } catch (e) {
      throw this.fail(e);
    } finally {
      this.memory.files.forget(this.name, pathInContainer);
    }
  }

  /** Runs a command without a shell; for non-secret commands only (arguments appear in docker events). */
  async exec(cmd: string[]): Promise<ExecResult> {
    try {
      const ex = await this.streaming.getContainer(this.name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const stream = await ex.start({ hijack: true, stdin: false });
      const out: Record<Chunk['stream'], Buffer[]> = { stdout: [], stderr: [] };
      const sink = new Writable({
        objectMode: true,
        write(c: Chunk, _enc, done) {
          out[c.stream].push(c.data);
          done();
        },
      });
      await pipeline(stream, new DockerDemux(false), sink);
      const { ExitCode } = await ex.inspect();
      return { exitCode: ExitCode ?? -1, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') };
    } catch (e) {
      throw this.fail(e);
    }
  }

  /**
   * Log lines, demultiplexed, ANSI-stripped and redacted (the ComfyUI-Login token line
   * included). With follow, runs until the container stops or the signal aborts.
   */
  async logs(opts: LogsOptions): Promise<number> {
    const info = opts.inspected ?? (await this.inspectOrFail());
    const fromStart = opts.since === 'start';
    const since = opts.since === 'start' ? new Date(info.State.StartedAt) : opts.since;
    const query = {
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(opts.tail === 'all' || fromStart ? {} : { tail: opts.tail ?? 200 }),
      ...(since && !Number.isNaN(since.getTime()) ? { since: Math.floor(since.getTime() / 1000) } : {}),
    };
    // `since` has whole seconds: a previous run's last lines in the start's second are dropped here.
    const startMs = fromStart ? (since?.getTime() ?? Number.NaN) : Number.NaN;
    const onLine = Number.isNaN(startMs) ? opts.onLine : (l: LogLine) => (Date.parse(l.time) >= startMs - 1 ? opts.onLine(l) : undefined);
    const container = this.streaming.getContainer(this.name);
    let source: Readable;
    try {
      source = opts.follow
        ? ((await container.logs({ ...query, follow: true, abortSignal: opts.signal })) as unknown as Readable)
        : Readable.from([await container.logs({ ...query, follow: false })]);
    } catch (e) {
      if (opts.signal?.aborted) return 0;
      throw this.fail(e);
    }
    return pumpLogLines(source, { tty: info.Config.Tty, onLine, signal: opts.signal });
  }

  /**
   * CPU and memory use from one sample (Docker's one-shot: without it the engine waits a second
   * for a second sample); CPU is computed against this manager's previous sample of the same
   * run, null before there is one. Null when the container is not running.
   */
  async stats(known?: { info: Docker.ContainerInspectInfo | undefined }): Promise<ContainerStats | null> {
    const info = known ? known.info : await this.inspect();
    if (!info?.State.Running) return null;
    try {
      const s = await this.docker.getContainer(this.name).stats({ stream: false, 'one-shot': true });
      const run = `${info.Id}@${info.State.StartedAt}`;
      const previous = this.lastCpu?.run === run ? this.lastCpu.sample : undefined;
      this.lastCpu = { run, sample: { cpu_usage: s.cpu_stats.cpu_usage, system_cpu_usage: s.cpu_stats.system_cpu_usage } };
      const stats = {
        cpuPercent: previous ? cpuPercent({ ...s, precpu_stats: { ...s.precpu_stats, ...previous } }) : null,
        memoryUsedBytes: memoryUsed(s),
        memoryLimitBytes: s.memory_stats.limit ?? 0,
        sampledAt: new Date().toISOString(),
      };
      this.lastStats = { run, stats };
      return stats;
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** GPUs as nvidia-smi in the container sees them; gpus null with the reason when there is none. */
  async gpu(known?: { info: Docker.ContainerInspectInfo | undefined }): Promise<GpuReport> {
    const info = known ? known.info : await this.inspect();
    if (!info?.State.Running) return { gpus: null, reason: 'the container is not running' };
    // No GPU was handed to it (no device request, no NVIDIA runtime): nvidia-smi has nothing to list.
    if (!wantsGpu(info)) return { gpus: null, reason: 'no GPU: the container has no GPU device request and no NVIDIA runtime (container.gpus)' };
    const limitMs = 2 * this.config.docker.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    // nvidia-smi can hang on a wedged driver; the status view must not.
    const timeout = new Promise<GpuReport>((resolve) => {
      timer = setTimeout(() => resolve({ gpus: null, reason: `nvidia-smi did not answer within ${limitMs / 1000} s (driver busy or hung?)` }), limitMs);
    });
    const query = this.exec(['nvidia-smi', '--query-gpu=name,memory.used,memory.total', '--format=csv,noheader,nounits']).then(gpuReport, (e: PanelError) =>
      gpuReport({ exitCode: -1, stdout: '', stderr: e.message }),
    );
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Installed, loaded and enforced: each a separate fact with its detail. `known`: the status and
   * inspect the caller already has (no second inspect); `token` (SECRET) sharpens "enforced".
   */
  async verifyLoginNode(opts: LoginNodeOptions = {}): Promise<LoginNodeReport> {
    return checkLoginNode(this, this.config, this.memory.loginNode, this.target, opts);
  }

  /**
   * Stats within `withinMs`: a busy engine can take a second for even a one-shot sample, so past
   * that the last sample of this run is shown (its sampledAt says when) while the fresh one lands
   * for the next call.
   */
  private async statsWithin(info: Docker.ContainerInspectInfo | undefined, withinMs: number): Promise<ContainerStats | null> {
    const fresh = this.stats({ info }).catch(() => null);
    if (!Number.isFinite(withinMs)) return fresh;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), withinMs)));
    try {
      const first = await Promise.race([fresh, late]);
      if (first !== 'late') return first;
      const run = info ? `${info.Id}@${info.State.StartedAt}` : '';
      return this.lastStats?.run === run ? this.lastStats.stats : null;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Everything the status view shows, with whether it is all right and why not; one inspect shared
   * by every part. `statsWithinMs` (default 150 ms): how long to wait for a fresh CPU/memory sample.
   */
  async overview(opts: { statsWithinMs?: number } = {}): Promise<ContainerOverview> {
    const { status, info } = await this.examine();
    const [loginNode, stats, gpu] = await Promise.all([
      this.verifyLoginNode({ known: { status, info } }),
      this.statsWithin(info, opts.statsWithinMs ?? 150),
      this.gpu({ info }).catch(() => ({ gpus: null, reason: 'not available' })),
    ]);
    const reasons: string[] = [];
    if (status.phase !== 'healthy') reasons.push(`the container is ${status.phase}, not healthy`);
    if (this.config.container.authRequired) {
      if (loginNode.installed.value === false) reasons.push(`ComfyUI-Login is not installed: ${loginNode.installed.detail}`);
      if (loginNode.loaded.value === false) reasons.push(`ComfyUI-Login is not loaded: ${loginNode.loaded.detail}`);
      if (loginNode.enforced.value !== true) reasons.push(`authentication is not enforced: ${loginNode.enforced.detail}`);
    }
    return { ...status, loginNode, stats, gpu, ok: reasons.length === 0, reasons };
  }

  /** Builds config container.image from assets/docker/comfyui-qwen (or another folder), streaming output lines. */
  async build(onProgress?: (line: string) => void, opts: Partial<Omit<BuildOptions, 'onProgress'>> = {}): Promise<BuildResult> {
    return buildImage(this.streaming, { tag: this.config.container.image, ...opts, onProgress });
  }

  /** The status view when Docker itself failed: phase unknown (not absent), and the problem says what to do. */
  static unreachable(name: string, err: unknown): ContainerOverview {
    const problem = classifyDockerError(err);
    const unknown = { value: null, detail: 'Docker is not reachable' };
    return {
      ...unknownStatus(name),
      loginNode: { installed: unknown, loaded: unknown, enforced: unknown },
      stats: null,
      gpu: { gpus: null, reason: 'Docker is not reachable' },
      ok: false,
      reasons: [`${problem.message} — ${problem.fix}`],
      problem,
    };
  }
}
