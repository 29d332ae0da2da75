import type { LoadedConfig } from '../config/load.js';
import type { PanelPaths } from '../config/paths.js';
import type { EventBus } from './bus.js';

/** Everything a handler may use. `loaded` is replaced when the config is saved. */
export interface PanelContext {
  loaded: LoadedConfig;
  paths: PanelPaths;
  mode: 'electron' | 'browser';
  version: string;
  bus: EventBus;
  /** Background work (watchers, the health monitor) registers its stop here; the host runs them at shutdown. */
  disposers: (() => unknown)[];
}
