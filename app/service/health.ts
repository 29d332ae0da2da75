import { planAdoption } from '../adopt/index.js';
import type { PanelHandlers } from '../contract/index.js';
import { PanelError } from '../errors.js';
import { deliverAll, panelSource, testMessage } from '../notify/channels.js';
import { applySetupChoices, detectSetup, probeConfigured } from '../health/index.js';
import { appHandlers } from './app.js';
import type { PanelContext } from './context.js';
import { uiCheckResult } from './ui-fixes.js';

export function healthHandlers(ctx: PanelContext) {
  // The context owns the monitor and stops it with its disposers.
  const monitor = ctx.health;
  // Monitoring starts with the service once a configuration exists (first run: after setup saves one);
  // once only, so a host that stopped it at shutdown does not get it back from a late call.
  let started = false;
  const ensureStarted = () => {
    if (started || !ctx.loaded.configured) return;
    started = true;
    monitor.start();
    ctx.live.start();
  };
  ensureStarted();
  return {
    healthRun: async () => {
      ensureStarted();
      const sweep = await monitor.sweep();
      return { ...sweep, checks: sweep.checks.map(uiCheckResult) };
    },
    healthStatus: async () => {
      ensureStarted();
      const view = await monitor.status();
      return { ...view, checks: view.checks.map(uiCheckResult) };
    },
    notifyTest: async ({ channel }) => {
      const config = ctx.loaded.config.notifications;
      if (channel !== undefined && !config.channels.some((c) => c.name === channel)) {
        throw new PanelError(`no notification channel named "${channel}"`, 'notify-no-channel', 'Add it under notifications.channels in the configuration (Settings), or pick one of those listed.');
      }
      if (config.channels.length === 0) {
        throw new PanelError('no notification channel is configured', 'notify-no-channel', 'Add a webhook, ntfy, Slack or Discord channel under notifications.channels in the configuration (Settings).');
      }
      return { deliveries: await deliverAll(config, testMessage(panelSource()), channel) };
    },
    healthProbe: async ({ requests }) => probeConfigured(ctx.loaded.config, ctx.paths, requests, ctx.vaultKeys),
    setupDetect: async ({ dockerHost }) =>
      detectSetup(dockerHost ? { ...ctx.loaded.config, docker: { ...ctx.loaded.config.docker, host: dockerHost, context: undefined } } : ctx.loaded.config, ctx.loaded.path),
    setupAdopt: async ({ containerName, dockerHost }) => planAdoption(ctx.loaded.config, { containerName, configFile: ctx.loaded.path, ...(dockerHost ? { dockerHost } : {}) }),
    setupApply: async ({ choices }) => {
      const view = await appHandlers(ctx).configSave({ config: applySetupChoices(ctx.loaded.config, choices) });
      ensureStarted();
      return view;
    },
  } satisfies Partial<PanelHandlers>;
}
