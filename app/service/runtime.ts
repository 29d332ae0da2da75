import { watchConfig } from '../config/watch.js';
import type { PanelHandlers } from '../contract/index.js';
import { fingerprintKeyFile, useFingerprintKey } from '../redact.js';
import { channelsNotifier, panelSource } from '../notify/channels.js';
import { fileLog, withCallLog } from './call-log.js';
import { createPanelContext, type PanelContext, type PanelContextOptions } from './context.js';
import { createPanelHandlers } from './index.js';

export interface PanelRuntime {
  ctx: PanelContext;
  handlers: PanelHandlers;
  /** Stops every watcher and timer the core started. */
  dispose(): Promise<void>;
}

/** Builds the core once for a UI host (Electron or browser mode). */
export function createPanelRuntime(opts: PanelContextOptions): PanelRuntime {
  useFingerprintKey(fingerprintKeyFile(opts.paths.dataDir));
  const ctx = createPanelContext(opts);
  const log = fileLog(opts.paths.logDir);
  ctx.disposers.push(
    watchConfig({
      file: opts.loaded.path,
      current: () => ctx.loaded,
      onReload: (next, changed) => {
        ctx.loaded = next;
        log(`config reloaded from ${next.path}: ${changed.join(', ') || 'first config'}`);
        ctx.bus.emit('configReloaded', { path: next.path, changed });
        // Every check reads the config: they re-run now, and the watchers follow a moved vault or container.
        ctx.live.changed(['config'], 'file');
      },
      onInvalid: (error) => ctx.bus.emit('configReloaded', { path: ctx.loaded.path, changed: [], error }),
    }),
  );
  log(`comfy-panel ${ctx.version} started (${opts.mode}), config ${opts.loaded.path}${opts.loaded.configured ? '' : ' (not configured yet)'}`);
  // The configured outbound channels hear every state change; a host adds its own (Electron: desktop).
  ctx.health.notifier = channelsNotifier(
    () => ctx.loaded.config.notifications,
    panelSource(),
    (d) => log(`notify ${d.channel} (${d.kind}, ${d.where}) ${d.ok ? 'ok' : `failed: ${d.error ?? ''}`} ${d.ms}ms`),
  );
  return {
    ctx,
    handlers: withCallLog(ctx.live.wrap(createPanelHandlers(ctx)), log),
    dispose: async () => {
      await Promise.allSettled(ctx.disposers.splice(0).map((stop) => stop()));
    },
  };
}
