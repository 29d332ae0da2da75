import { configDiff } from '../config/diff.js';
import { configJsonSchema } from '../config/json-schema.js';
import { saveConfig } from '../config/load.js';
import { PanelConfigSchema } from '../config/schema.js';
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
    configSchema: async () => configJsonSchema(),
    configCheck: async ({ config }) => {
      const r = PanelConfigSchema.safeParse(config);
      if (!r.success) return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.join('.') || '(top level)', message: i.message })), changes: [] };
      return { ok: true, issues: [], changes: configDiff(ctx.loaded.config, r.data) };
    },
    configSave: async ({ config }) => {
      ctx.loaded = { config: await saveConfig(ctx.loaded.path, config), path: ctx.loaded.path, configured: true };
      return view();
    },
  } satisfies Partial<PanelHandlers>;
}
