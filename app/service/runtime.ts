import { listInstances } from '../config/instances.js';
import { watchConfig } from '../config/watch.js';
import type { PanelHandlers } from '../contract/index.js';
import { fingerprintKeyFile, useFingerprintKey } from '../redact.js';
import { appHandlers } from './app.js';
import type { EventBus } from './bus.js';
import { fileLog, withCallLog } from './call-log.js';
import type { PanelContext, PanelContextOptions } from './context.js';
import { fleetHandlers } from './fleet-ops.js';
import { Fleet } from './fleet.js';

export interface PanelRuntime {
  fleet: Fleet;
  /** The first instance's context (the only one of a single-deployment config). */
  ctx: PanelContext;
  /** Every operation: the panel-wide ones, and the rest routed to the instance the call names. */
  handlers: PanelHandlers;
  /** Every instance's events, each with its instance id. */
  bus: EventBus;
  /** Stops every watcher and timer the core started. */
  dispose(): Promise<void>;
}

/** Builds the core once for a UI host (Electron or browser mode): one context per instance of the config. */
export function createPanelRuntime(opts: Omit<PanelContextOptions, 'instance'>): PanelRuntime {
  // Fingerprints are the install's, not an instance's: the same token shows the same everywhere.
  useFingerprintKey(fingerprintKeyFile(opts.paths.dataDir));
  const log = fileLog(opts.paths.logDir);
  const fleet = new Fleet({ ...opts, log });
  const stopWatch = watchConfig({
    file: opts.loaded.path,
    current: () => fleet.loaded,
    onReload: (next, changed) => {
      log(`config reloaded from ${next.path}: ${changed.join(', ') || 'first config'}`);
      fleet.sync(next, changed, 'file');
    },
    onInvalid: (error) => {
      for (const id of fleet.ids()) fleet.member(id).ctx.bus.emit('configReloaded', { path: fleet.loaded.path, changed: [], error });
    },
  });
  log(`comfy-panel ${fleet.member().ctx.version} started (${opts.mode}), config ${opts.loaded.path}${opts.loaded.configured ? '' : ' (not configured yet)'}, instances ${listInstances(opts.loaded.config).map((i) => i.id).join(', ')}`);
  // The panel-wide operations see the whole config; saving it updates every instance.
  const wide = appHandlers({
    get loaded() {
      return fleet.loaded;
    },
    paths: opts.paths,
    mode: opts.mode,
    version: fleet.member().ctx.version,
    writeConfig: async (next) => void (await fleet.save(next)),
  });
  return {
    fleet,
    get ctx() {
      return fleet.member().ctx;
    },
    handlers: fleet.router(withCallLog({ ...wide, ...fleetHandlers(fleet) }, log)),
    bus: fleet.bus,
    dispose: async () => {
      stopWatch();
      await fleet.dispose();
    },
  };
}
