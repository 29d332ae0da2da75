import { saveConfig, type LoadedConfig } from '../config/load.js';
import { DEFAULT_INSTANCE } from '../config/instances.js';
import type { PanelPaths } from '../config/paths.js';
import { EnginePings } from '../docker/connection.js';
import { ContainerMemory } from '../docker/memory.js';
import { createHealthMonitor, type HealthMonitor } from '../health/index.js';
import { fileVaultKeys, type VaultKeys } from '../tokens/vault.js';
import { appVersion } from '../version.js';
import { EventBus } from './bus.js';
import { LiveState } from './live.js';
import { uiCheckResult } from './ui-fixes.js';

/**
 * Everything a handler may use, and all the state the core keeps between calls: nothing of it
 * lives in module globals, so two runtimes (tests, later one per instance) never share any.
 * `loaded` is replaced when the config is saved.
 */
export interface PanelContext {
  /** The instance of the fleet this context is (its config, data folder, vault, monitor); "default" alone. */
  instance: string;
  /** This instance's view of the config (config/instances.ts): the single-deployment shape every area reads. */
  loaded: LoadedConfig;
  /** Writes `next` (this instance's view, changed by setup) into the config file, then `loaded`. */
  writeConfig(next: unknown): Promise<void>;
  paths: PanelPaths;
  mode: 'electron' | 'browser';
  version: string;
  bus: EventBus;
  /** Background work (watchers, the health monitor) registers its stop here; the host runs them at shutdown. */
  disposers: (() => unknown)[];
  /** How the vault key is kept: the 0600 key file, or the OS keychain in Electron. */
  vaultKeys: VaultKeys;
  /** The background health monitor; hosts may set its notifier (Electron: desktop notifications). */
  health: HealthMonitor;
  /** What is known about the container between calls (ComfyUI-Login per run, file reads), shared by the container view and the sweeps. */
  containerMemory: ContainerMemory;
  /** Pings in flight by engine, shared by every instance of the fleet. */
  enginePings: EnginePings;
  /** What changed and which checks re-run because of it (service/live.ts); started with monitoring. */
  live: LiveState;
}

export interface PanelContextOptions {
  mode: PanelContext['mode'];
  loaded: LoadedConfig;
  paths: PanelPaths;
  /** Default: the 0600 key file beside the vault. */
  vaultKeys?: VaultKeys;
  version?: string;
  /** Given by the fleet: its id, its shared bus and how this instance's view is written back. Default: the one instance. */
  instance?: { id: string; bus: EventBus; enginePings: EnginePings; writeConfig(next: unknown): Promise<LoadedConfig> };
}

/** A fresh context: its own bus, health monitor (not started) and caches. */
export function createPanelContext(opts: PanelContextOptions): PanelContext {
  const bus = opts.instance?.bus ?? new EventBus();
  const health = createHealthMonitor(opts.paths, {
    deps: () => ({ config: ctx.loaded.config, paths: ctx.paths, configFile: ctx.loaded.path, vaultKeys: ctx.vaultKeys, containerMemory: ctx.containerMemory, enginePings: ctx.enginePings }),
    // The app names its own buttons in a fix where the core's text names a CLI command.
    onResult: (result) => ctx.bus.emit('health', uiCheckResult(result)),
  });
  const ctx: PanelContext = {
    instance: opts.instance?.id ?? DEFAULT_INSTANCE,
    loaded: opts.loaded,
    async writeConfig(next) {
      ctx.loaded = opts.instance ? await opts.instance.writeConfig(next) : { config: await saveConfig(ctx.loaded.path, next), path: ctx.loaded.path, configured: true };
    },
    paths: opts.paths,
    mode: opts.mode,
    version: opts.version ?? appVersion,
    bus,
    disposers: [],
    vaultKeys: opts.vaultKeys ?? fileVaultKeys,
    containerMemory: new ContainerMemory(),
    enginePings: opts.instance?.enginePings ?? new EnginePings(),
    health,
    live: new LiveState({ bus, health, config: () => ctx.loaded.config, paths: opts.paths }),
  };
  ctx.disposers.push(() => ctx.live.stop(), () => ctx.health.stop());
  return ctx;
}
