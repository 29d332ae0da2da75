import type { PanelHandlers } from '../contract/index.js';
import { fingerprintKeyFile, useFingerprintKey } from '../redact.js';
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
  log(`comfy-panel ${ctx.version} started (${opts.mode}), config ${opts.loaded.path}${opts.loaded.configured ? '' : ' (not configured yet)'}`);
  return {
    ctx,
    handlers: withCallLog(createPanelHandlers(ctx), log),
    dispose: async () => {
      await Promise.allSettled(ctx.disposers.splice(0).map((stop) => stop()));
    },
  };
}
