import type { PanelHandlers } from '../contract/index.js';
import { applySetupChoices, createHealthMonitor, detectSetup, probeConfigured, type HealthMonitor } from '../health/index.js';
import { appHandlers } from './app.js';
import type { PanelContext } from './context.js';

const monitors = new WeakMap<PanelContext, HealthMonitor>();

/**
 * The background monitor of a runtime. Hosts use it to set a desktop notifier
 * (`healthMonitorOf(ctx).notifier = ...`) and to stop it on shutdown (`await ....stop()`).
 */
export function healthMonitorOf(ctx: PanelContext): HealthMonitor {
  let monitor = monitors.get(ctx);
  if (!monitor) {
    monitor = createHealthMonitor(ctx.paths, {
      deps: () => ({ config: ctx.loaded.config, paths: ctx.paths, configFile: ctx.loaded.path }),
      onResult: (result) => ctx.bus.emit('health', result),
    });
    monitors.set(ctx, monitor);
  }
  return monitor;
}

export function healthHandlers(ctx: PanelContext) {
  const monitor = healthMonitorOf(ctx);
  ctx.disposers.push(() => monitor.stop());
  // Monitoring starts with the service once a configuration exists (first run: after setup saves one);
  // once only, so a host that stopped it at shutdown does not get it back from a late call.
  let started = false;
  const ensureStarted = () => {
    if (started || !ctx.loaded.configured) return;
    started = true;
    monitor.start();
  };
  ensureStarted();
  return {
    healthRun: async () => {
      ensureStarted();
      return monitor.sweep();
    },
    healthStatus: async () => {
      ensureStarted();
      return monitor.status();
    },
    healthProbe: async ({ requests }) => probeConfigured(ctx.loaded.config, ctx.paths, requests),
    setupDetect: async () => detectSetup(ctx.loaded.config, ctx.loaded.path),
    setupApply: async ({ choices }) => {
      const view = await appHandlers(ctx).configSave({ config: applySetupChoices(ctx.loaded.config, choices) });
      ensureStarted();
      return view;
    },
  } satisfies Partial<PanelHandlers>;
}
