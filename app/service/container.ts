import type { PanelConfig } from '../config/schema.js';
import type { PanelHandlers } from '../contract/index.js';
import type { LogLine } from '../contract/events.js';
import type { ContainerPhase } from '../contract/ops/container.js';
import { pingDocker } from '../docker/connection.js';
import { ContainerManager } from '../docker/manager.js';
import { DockerError } from '../docker/problems.js';
import type { PanelContext } from './context.js';

const RUNNING: readonly ContainerPhase[] = ['starting', 'healthy', 'unhealthy'];

export function containerHandlers(ctx: PanelContext) {
  let current: { config: PanelConfig; manager: ContainerManager; unwatch: () => void } | undefined;
  let follow: AbortController | undefined;
  let wantFollow = false;

  /**
   * Asked by the UI: only new lines (it fetched the recent ones with containerLogs). After a
   * (re)start: every line of the new run, or those printed before the stream attached (the
   * ComfyUI-Login token line among them) would never reach the UI.
   */
  const startFollowing = (m: ContainerManager, from: 'now' | 'start') => {
    if (follow) return;
    const ac = new AbortController();
    follow = ac;
    m.logs({ ...(from === 'start' ? { since: 'start' as const } : { tail: 0 }), follow: true, signal: ac.signal, onLine: (l) => ctx.bus.emit('log', l) })
      .catch(() => undefined)
      .finally(() => {
        if (follow === ac) follow = undefined;
      });
  };

  /** The manager for the current config; a saved config replaces it (and its watcher). */
  const manager = (): ContainerManager => {
    if (current?.config !== ctx.loaded.config) {
      current?.unwatch();
      follow?.abort();
      const m = new ContainerManager(ctx.loaded.config, undefined, ctx.containerMemory);
      // Started with the first container operation, so hosts that never ask pay nothing.
      const unwatch = m.watch((s) => {
        ctx.bus.emit('containerState', s);
        // A followed log stream ends when the container stops; pick it up again on the next start.
        if (wantFollow && RUNNING.includes(s.phase)) startFollowing(m, 'start');
      });
      current = { config: ctx.loaded.config, manager: m, unwatch };
    }
    return current.manager;
  };

  // The live state follows the container while monitoring, whether or not a UI asked yet.
  ctx.live.watchContainer = () => void manager();
  ctx.disposers.push(() => {
    current?.unwatch();
    follow?.abort();
  });
  return {
    dockerPing: async () => pingDocker(ctx.loaded.config),
    containerStatus: async () => {
      const m = manager();
      try {
        return await m.overview();
      } catch (e) {
        if (e instanceof DockerError) return ContainerManager.unreachable(m.name, e);
        throw e;
      }
    },
    containerStart: async () => manager().start(),
    containerStop: async () => manager().stop(),
    containerRestart: async () => manager().restart(),
    containerCreate: async () => manager().create(),
    containerRecreate: async ({ force }) => manager().recreate({ force }),
    containerRemove: async () => manager().remove(),
    containerAdopt: async () => manager().adopt(),
    containerComposeApply: async () => manager().composeApply(),
    containerLogs: async ({ tail }) => {
      const lines: LogLine[] = [];
      await manager().logs({ tail, onLine: (l) => void lines.push(l) });
      return { lines };
    },
    containerLogsFollow: async ({ follow: on }) => {
      wantFollow = on;
      if (on) startFollowing(manager(), 'now');
      else follow?.abort();
      return { following: on };
    },
    containerBuild: async () => {
      let seq = 0;
      return manager().build((text) => ctx.bus.emit('log', { seq: ++seq, stream: 'stdout', time: new Date().toISOString(), text }));
    },
  } satisfies Partial<PanelHandlers>;
}
