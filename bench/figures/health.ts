/**
 * Figure 3: one full health sweep (every registered check through the runner) against the
 * raw requests it stands on, made one after another: docker ping, container inspect,
 * GET /system_stats anonymous and with the token, and the token's /system_stats read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { connectDocker } from '../../app/docker/connection.js';
import { healthChecks, runSweep, SweepContext } from '../../app/health/index.js';
import { openVault } from '../../app/tokens/vault.js';
import { startDouble } from '../../test/comfy/support.js';
import { measurement, type Figure } from '../measurement.js';
import { alternate, median } from '../stats.js';

export const healthFigure: Figure = {
  id: 'health',
  title: 'health: full sweep vs its raw requests',
  async run(sizes, progress) {
    const home = await mkdtemp(path.join(tmpdir(), 'bench-health-'));
    const double = await startDouble();
    try {
      const paths = panelPaths({ COMFY_PANEL_HOME: home });
      // No such container: the container checks answer from one inspect, as on a fresh machine.
      const config = parseConfig({ comfyui: { url: double.comfy.url }, container: { name: `bench-health-absent-${process.pid}` } });
      await openVault(config, paths).write({ current: { hash: double.hash, username: 'admin', createdAt: new Date().toISOString() } });
      const sweep = () => runSweep(healthChecks, () => new SweepContext({ config, paths, configFile: paths.configFile }), { timeoutMs: config.health.checkTimeoutMs, retries: 0 });

      // One after another, each awaited: what the sweep would cost if it added nothing.
      const raw = async () => {
        const { docker } = connectDocker(config);
        await docker.ping();
        await docker.getContainer(config.container.name).inspect().catch((e: { statusCode?: number }) => {
          if (e.statusCode !== 404) throw e;
        });
        for (const token of [undefined, double.hash, double.hash]) {
          const res = await fetch(`${double.comfy.url}/system_stats`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
          await res.arrayBuffer();
        }
      };

      const first = await sweep(); // warm-up, and the record of what ran
      await raw();
      const times = await alternate(sizes.sweeps, sweep, raw);
      progress(`health: ${sizes.sweeps} sweeps done`);
      const byStatus = new Map<string, number>();
      for (const r of first) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
      return [
        measurement({
          id: 'health.sweep',
          label: `sweep of ${first.length} checks, median of ${sizes.sweeps} (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')})`,
          value: median(times.a),
          unit: 'ms',
          baseline: median(times.b),
          baselineLabel: 'sum of raw requests (ping, inspect, 3x /system_stats)',
          target: { kind: 'ratio-max', limit: 3, text: '<= 3x' },
          note: 'host double, vault token, container absent (container-bound checks report unknown); retries 0',
        }),
      ];
    } finally {
      await double.close();
      await rm(home, { recursive: true, force: true });
    }
  },
};
