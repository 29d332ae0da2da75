import { saveConfig } from '../config/load.js';
import type { PanelHandlers } from '../contract/index.js';
import type { PanelContext } from './context.js';

export function appHandlers(ctx: PanelContext) {
  const view = () => ({ path: ctx.loaded.path, configured: ctx.loaded.configured, config: ctx.loaded.config });
  return {
    appInfo: async () => ({
      name: 'ComfyUI Control Panel',
      version: ctx.version,
      mode: ctx.mode,
      platform: `${process.platform}-${process.arch}`,
      configPath: ctx.loaded.path,
      configured: ctx.loaded.configured,
      dataDir: ctx.paths.dataDir,
    }),
    configGet: async () => view(),
    configSave: async ({ config }) => {
      ctx.loaded = { config: await saveConfig(ctx.loaded.path, config), path: ctx.loaded.path, configured: true };
      return view();
    },
  } satisfies Partial<PanelHandlers>;
}
