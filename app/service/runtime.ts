import type { LoadedConfig } from '../config/load.js';
import type { PanelPaths } from '../config/paths.js';
import type { PanelHandlers } from '../contract/index.js';
import { fingerprintKeyFile, useFingerprintKey } from '../redact.js';
import { appVersion } from '../version.js';
import { EventBus } from './bus.js';
import { fileLog, withCallLog } from './call-log.js';
import type { PanelContext } from './context.js';
import { createPanelHandlers } from './index.js';

export interface PanelRuntime {
  ctx: PanelContext;
  handlers: PanelHandlers;
  /** Stops every watcher and timer the core started. */
  dispose(): Promise<void>;
}

/** Builds the core once for a UI host (Electron or browser mode). */
export function createPanelRuntime(opts: { mode: PanelContext['mode']; loaded: LoadedConfig; paths: PanelPaths }): PanelRuntime {
  useFingerprintKey(fingerprintKeyFile(opts.paths.dataDir));
  const ctx: PanelContext = { loaded: opts.loaded, paths: opts.paths, mode: opts.mode, version: appVersion, bus: new EventBus(), disposers: [] };
  const log = fileLog(opts.paths.logDir);
  log(`comfy-panel ${appVersion} started (${opts.mode}), config ${opts.loaded.path}${opts.loaded.configured ? '' : ' (not configured yet)'}`);
  return {
    ctx,
    handlers: withCallLog(createPanelHandlers(ctx), log),
    dispose: async () => {
      await Promise.allSettled(ctx.disposers.splice(0).map((stop) => stop()));
    },
  };
}
