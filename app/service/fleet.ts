import { configDiff } from '../config/diff.js';
import { instanceConfig, instancePaths, listInstances, withInstanceConfig, type InstanceRef } from '../config/instances.js';
import { saveConfig, type LoadedConfig } from '../config/load.js';
import type { PanelPaths } from '../config/paths.js';
import { EnginePings } from '../docker/connection.js';
import { isFleetWide, opNames, type FleetWideOp, type InstanceHandlers, type OpName, type PanelHandlers } from '../contract/index.js';
import { ContractError } from './dispatch.js';
import { aboutInstance, combineNotifiers, type Notifier } from '../health/notifier.js';
import { channelsNotifier, panelSource } from '../notify/channels.js';
import type { VaultKeys } from '../tokens/vault.js';
import { EventBus } from './bus.js';
import { withCallLog } from './call-log.js';
import { createPanelContext, type PanelContext } from './context.js';
import { createPanelHandlers } from './index.js';

export interface Member {
  ctx: PanelContext;
  handlers: InstanceHandlers;
}

export interface FleetOptions {
  mode: PanelContext['mode'];
  loaded: LoadedConfig;
  paths: PanelPaths;
  vaultKeys?: VaultKeys;
  version?: string;
  log: (line: string) => void;
}

/**
 * The instances of one panel, each a PanelContext of its own (its view of the config, data
 * folder, vault, monitor, locks, journals), sharing one event bus that tags events with the
 * instance. Follows the config: an instance added or removed there is started or stopped here.
 */
export class Fleet {
  readonly bus = new EventBus();
  /** Pings in flight per engine, shared by the instances on that engine. */
  private readonly enginePings = new EnginePings();
  loaded: LoadedConfig;
  private readonly members = new Map<string, Member>();
  /** Notifiers a host adds for every instance, present and future (Electron: desktop notifications). */
  private readonly hostNotifiers: Notifier[] = [];
  /** Serialises writes of the config file by instances (setup) and the panel (Settings). */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: FleetOptions) {
    this.loaded = opts.loaded;
    this.sync(opts.loaded, []);
  }

  ids(): string[] {
    return [...this.members.keys()];
  }

  instances(): InstanceRef[] {
    return listInstances(this.loaded.config);
  }

  /** The panel's own data folder (the default instance's too): fleet-wide state lives there. */
  get dataDir(): string {
    return this.opts.paths.dataDir;
  }

  /** The instance a call names; none: the first (so a single-instance panel needs no id). */
  member(id?: string): Member {
    const m = id === undefined ? this.members.values().next().value : this.members.get(id);
    if (!m) {
      throw new ContractError({ code: 'invalid-input', message: `unknown instance "${id}": this panel has ${this.ids().join(', ')}`, issues: [{ path: 'instance', message: 'not an instance of this panel' }] });
    }
    return m;
  }

  /** Writes the whole config (Settings, or an instance's view merged back) and follows it. */
  async save(value: unknown): Promise<LoadedConfig> {
    const run = this.writing.then(async () => {
      const config = await saveConfig(this.loaded.path, value);
      const previous = this.loaded.config;
      this.sync({ config, path: this.loaded.path, configured: true }, configDiff(previous, config).map((c) => c.field), 'operation');
      return this.loaded;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes a new config: each instance's context gets its view, new instances start, removed ones
   * stop. `changed` (dotted fields) re-runs the checks of each instance whose view changed.
   */
  sync(loaded: LoadedConfig, changed: string[], cause?: 'file' | 'operation'): void {
    this.loaded = loaded;
    const wanted = listInstances(loaded.config).map((i) => i.id);
    for (const [id, m] of this.members) {
      if (wanted.includes(id)) continue;
      this.members.delete(id);
      void Promise.allSettled(m.ctx.disposers.splice(0).map((stop) => stop()));
    }
    for (const id of wanted) {
      const view: LoadedConfig = { ...loaded, config: instanceConfig(loaded.config, id) };
      const m = this.members.get(id);
      if (!m) {
        this.members.set(id, this.start(id, view));
        continue;
      }
      const before = m.ctx.loaded.config;
      m.ctx.loaded = view;
      if (cause === undefined) continue;
      const own = configDiff(before, view.config).map((c) => c.field);
      if (own.length === 0 && changed.length === 0) continue;
      // The UI says "reloaded" for a file changed elsewhere; its own save it knows about.
      if (cause === 'file') m.ctx.bus.emit('configReloaded', { path: loaded.path, changed: own.length ? own : changed });
      // Every check reads the config: they re-run now, and the watchers follow a moved vault or container.
      m.ctx.live.changed(['config'], cause);
    }
  }

  /** The instance as a host's notifications name it, by the config of now; none while it is the only one. */
  private named(id: string): InstanceRef | undefined {
    const all = listInstances(this.loaded.config);
    return all.length > 1 ? all.find((i) => i.id === id) : undefined;
  }

  private start(id: string, view: LoadedConfig): Member {
    const many = listInstances(this.loaded.config).length > 1;
    const log = many ? (line: string) => this.opts.log(`[${id}] ${line}`) : this.opts.log;
    const ctx = createPanelContext({
      mode: this.opts.mode,
      loaded: view,
      paths: instancePaths(this.opts.paths, id),
      ...(this.opts.vaultKeys ? { vaultKeys: this.opts.vaultKeys } : {}),
      ...(this.opts.version ? { version: this.opts.version } : {}),
      instance: {
        id,
        bus: this.bus.forInstance(id),
        enginePings: this.enginePings,
        writeConfig: async (next) => {
          const whole = await this.save(withInstanceConfig(this.loaded.config, id, next as LoadedConfig['config']));
          return { ...whole, config: instanceConfig(whole.config, id) };
        },
      },
    });
    ctx.health.notifier = combineNotifiers(
      channelsNotifier(
        () => ctx.loaded.config.notifications,
        many ? `${panelSource()}, instance ${id}` : panelSource(),
        (d) => log(`notify ${d.channel} (${d.kind}, ${d.where}) ${d.ok ? 'ok' : `failed: ${d.error ?? ''}`} ${d.ms}ms`),
      ),
      ...this.hostNotifiers.map((n) => aboutInstance(n, () => this.named(id))),
    );
    return { ctx, handlers: withCallLog(ctx.live.wrap(createPanelHandlers(ctx)), log) };
  }

  /**
   * One handler per operation: the panel-wide ones from `wide`, every other one routed to the
   * instance the call names.
   */
  router(wide: Pick<PanelHandlers, FleetWideOp>): PanelHandlers {
    const routed: Partial<Record<OpName, (input: unknown, instance?: string) => Promise<unknown>>> = {};
    for (const name of opNames) {
      routed[name] = isFleetWide(name)
        ? (wide[name as keyof typeof wide] as (input: unknown) => Promise<unknown>)
        : (input, instance) => (this.member(instance).handlers[name as keyof InstanceHandlers] as (input: unknown) => Promise<unknown>)(input);
    }
    return routed as PanelHandlers;
  }

  addNotifier(n: Notifier): void {
    this.hostNotifiers.push(n);
    for (const [id, m] of this.members) m.ctx.health.notifier = combineNotifiers(m.ctx.health.notifier, aboutInstance(n, () => this.named(id)));
  }

  /** Stops every instance's background work; their state stays readable. */
  async dispose(): Promise<void> {
    await Promise.allSettled([...this.members.values()].flatMap((m) => m.ctx.disposers.splice(0).map((stop) => stop())));
  }
}
