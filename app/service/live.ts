import path from 'node:path';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import type { FactsChanged, LiveFact } from '../contract/events.js';
import type { OpName, PanelHandlers } from '../contract/index.js';
import { watchFiles, type FilesWatch } from '../fs/watch-files.js';
import { checksDependingOn } from '../health/dependencies.js';
import type { HealthMonitor } from '../health/monitor.js';
import { AUDIT_LOG } from '../tokens/audit-log.js';
import { VAULT_FILE, vaultDir } from '../tokens/vault.js';
import type { EventBus } from './bus.js';

/**
 * How often the vault's files are polled for changes inotify does not report (watch-files.ts):
 * a CLI rotation shows in the open UI at once, and well within 2 s where only the poll sees it.
 */
export const VAULT_POLL_MS = 1_000;

/**
 * The facts each operation writes, beyond what its own events report (the container's state
 * comes from Docker's events): their dependent checks re-run as soon as it returns.
 */
export const factsWrittenBy: Partial<Record<OpName, readonly LiveFact[]>> = {
  configSave: ['config'],
  setupApply: ['config'],
  envSyncApply: ['env'],
  generateRun: ['runs'],
  tokenRotate: ['vault', 'env'],
  tokenInit: ['vault', 'env'],
  tokenImport: ['vault'],
  tokenUnify: ['vault', 'env'],
  tokenRecover: ['vault', 'env'],
};

/**
 * Operations that restart or stop ComfyUI: while one runs, the checks it disturbs are held and
 * re-run once it returns, so a deliberate restart does not flash red or notify an outage.
 */
const MOVES_CONTAINER: readonly OpName[] = ['containerStart', 'containerStop', 'containerRestart', 'containerCreate', 'containerRecreate', 'containerRemove', 'tokenRotate', 'tokenInit', 'tokenUnify', 'tokenRecover'];

export interface LiveDeps {
  bus: EventBus;
  health: HealthMonitor;
  /** Read when watching starts and after a config change: the vault folder may move. */
  config: () => PanelConfig;
  paths: PanelPaths;
}

/**
 * One source of truth for live state in the core: a container state event, a change to the
 * vault's files (also by the CLI or another process) and an operation's result re-run exactly
 * the health checks that read the changed fact (the monitor debounces them), and a `changed`
 * event tells the UIs which facts to refetch. One per runtime (later one per instance).
 */
export class LiveState {
  private vault: FilesWatch | undefined;
  private watchedDir: string | undefined;
  private offContainer: (() => void) | undefined;
  /** Operations of this panel in flight that hold rechecks, and the facts held meanwhile. */
  private busy = 0;
  private readonly held = new Set<LiveFact>();
  /** Set by the container handlers: starts Docker's event stream for the configured container. */
  watchContainer: (() => void) | undefined;

  constructor(private readonly deps: LiveDeps) {}

  get started(): boolean {
    return this.offContainer !== undefined;
  }

  /** Starts following the container and the vault (with the health monitor). */
  start(): void {
    if (this.started) return;
    // The first state after connecting is what the sweep sees anyway; each later one is a change.
    let last: string | undefined;
    this.offContainer = this.deps.bus.on('containerState', (s) => {
      const key = `${s.name}|${s.id ?? ''}|${s.phase}|${s.health ?? ''}`;
      if (last !== undefined && key !== last) this.recheck(['container']);
      last = key;
    });
    this.watchContainer?.();
    this.watchVault();
  }

  stop(): void {
    this.offContainer?.();
    this.offContainer = undefined;
    this.vault?.close();
    this.vault = undefined;
    this.watchedDir = undefined;
  }

  /**
   * Facts changed: re-runs their checks and tells the UIs. The hook for whatever else notices a
   * change (a config file reloaded from disk calls it with `config`).
   */
  changed(facts: readonly LiveFact[], cause: FactsChanged['cause']): void {
    if (facts.length === 0) return;
    if (facts.includes('config') && this.started) {
      this.watchContainer?.();
      this.watchVault();
    }
    this.recheck(facts);
    this.deps.bus.emit('changed', { facts: [...facts], cause });
  }

  private recheck(facts: readonly LiveFact[]): void {
    if (this.busy > 0) return void facts.forEach((f) => this.held.add(f));
    this.deps.health.recheck(checksDependingOn(facts, this.deps.health.checks));
  }

  /** The vault's credential and audit log; a move of the folder (config change) moves the watch. */
  private watchVault(): void {
    const dir = vaultDir(this.deps.config(), this.deps.paths);
    if (dir === this.watchedDir) return;
    this.vault?.close();
    this.watchedDir = dir;
    this.vault = watchFiles([path.join(dir, VAULT_FILE), path.join(dir, AUDIT_LOG)], VAULT_POLL_MS, () => this.changed(['vault'], 'file'));
  }

  /**
   * Wraps the handlers: an operation that writes a fact reports it once it returns (or fails: it
   * may have written some), and one that moves the container holds rechecks until it is done.
   */
  wrap<H extends Partial<PanelHandlers>>(handlers: H): H {
    const wrapped = { ...handlers } as unknown as Record<string, (input: unknown) => Promise<unknown>>;
    const names = new Set<OpName>([...MOVES_CONTAINER, ...(Object.keys(factsWrittenBy) as OpName[])]);
    for (const name of names) {
      const handler = handlers[name] as ((input: unknown) => Promise<unknown>) | undefined;
      if (!handler) continue;
      const holds = MOVES_CONTAINER.includes(name);
      wrapped[name] = async (input) => {
        if (holds) this.busy++;
        try {
          return await handler(input);
        } finally {
          if (holds) this.busy--;
          this.changed(factsWrittenBy[name] ?? [], 'operation');
          if (this.busy === 0 && this.held.size > 0) {
            const facts = [...this.held];
            this.held.clear();
            this.recheck(facts);
          }
        }
      };
    }
    return wrapped as unknown as H;
  }
}
