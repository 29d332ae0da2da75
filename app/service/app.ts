import { configDiff } from '../config/diff.js';
import { listInstances } from '../config/instances.js';
import { configJsonSchema } from '../config/json-schema.js';
import { PanelConfigSchema } from '../config/schema.js';
import type { PanelHandlers } from '../contract/index.js';
import type { PanelContext } from './context.js';

/** What the panel-wide operations read: a PanelContext, or the fleet's whole config. */
export type AppScope = Pick<PanelContext, 'loaded' | 'paths' | 'mode' | 'version' | 'writeConfig'>;

export function appHandlers(ctx: AppScope) {
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
      instances: listInstances(ctx.loaded.config),
    }),
    configGet: async () => view(),
    configSchema: async () => configJsonSchema(),
    configCheck: async ({ config }) => {
      const r = PanelConfigSchema.safeParse(config);
      if (!r.success) return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.join('.') || '(top level)', message: i.message })), changes: [] };
      return { ok: true, issues: [], changes: configDiff(ctx.loaded.config, r.data) };
    },
    configSave: async ({ config }) => {
      await ctx.writeConfig(config);
      return view();
    },
  } satisfies Partial<PanelHandlers>;
}
