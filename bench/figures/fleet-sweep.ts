/**
 * Figure (issue 19): the fleet's health sweep — every instance's full sweep at once, through the
 * runtime's handlers — against the slowest instance's sweep alone, both measured in the same run
 * on the same containers. N instances (BENCH_FLEET_INSTANCES, default 20), each a container of the
 * ComfyUI double on the bench's engine with its own secret file, adopted into its own vault.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { panelPaths } from '../../app/config/paths.js';
import { PanelConfigSchema } from '../../app/config/schema.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { createPanelRuntime } from '../../app/service/runtime.js';
import { freePort } from '../../test/docker/helpers.js';
import { ensureDoubleImage } from '../../test/support/double-image.js';
import { benchDocker } from '../support/docker.js';
import { measurement, type Figure } from '../measurement.js';
import { median, pool, timed } from '../stats.js';

export const fleetSweepFigure: Figure = {
  id: 'fleet-sweep',
  title: 'fleet: health sweep of every instance at once vs the slowest one alone',
  async run(sizes, progress) {
    const docker = await benchDocker();
    const image = await ensureDoubleImage(docker);
    const home = await mkdtemp(path.join(tmpdir(), 'bench-fleet-'));
    const stamp = `${process.pid}-${Date.now().toString(36)}`;
    const ids = Array.from({ length: sizes.fleetInstances }, (_, i) => `i${i + 1}`);
    const names = ids.map((id) => `bench-fleet-${stamp}-${id}`);
    let rt: ReturnType<typeof createPanelRuntime> | undefined;
    try {
      const instances = await Promise.all(
        ids.map(async (id, i) => {
          const hostPort = await freePort();
          const secretFile = path.join(home, 'secrets', `${id}.token`);
          await mkdir(path.dirname(secretFile), { recursive: true });
          await writeFile(secretFile, `${bcrypt.hashSync(`bench-${id}`, 4)}\nadmin`, { mode: 0o600 });
          return {
            id,
            comfyui: { url: `http://127.0.0.1:${hostPort}`, timeoutMs: 10_000 },
            // The recipe's own healthcheck schedule (every 30 s), as an operator's fleet runs it.
            container: { name: names[i]!, image, hostPort, gpus: 'none' as const, restartPolicy: 'no' as const, secretFile, stopTimeoutSec: 2, healthcheck: { intervalSec: 30, timeoutSec: 10, retries: 3, startPeriodSec: 0 } },
          };
        }),
      );
      const config = PanelConfigSchema.parse({ health: { intervalSec: 3600, retries: 0, checkTimeoutMs: 15_000 }, docker: { timeoutMs: 20_000 }, instances });
      // Four starts at a time (twenty creates at once on a 2-core machine are the engine's worst case,
      // not the fleet's); the first healthcheck, 30 s after each start, is waited for by all at once.
      const managers = instances.map((inst) => new ContainerManager(PanelConfigSchema.parse({ container: inst.container, docker: { timeoutMs: 20_000 } })));
      await pool(instances.length, 4, async (i) => void (await managers[i]!.start()));
      await Promise.all(
        managers.map(async (m) => {
          const s = await m.waitFor(['healthy', 'unhealthy', 'crashed'], 120_000);
          if (s.phase !== 'healthy') throw new Error(`${m.name} is ${s.phase}, not healthy`);
        }),
      );
      progress(`fleet: ${ids.length} containers healthy`);
      const paths = panelPaths({ COMFY_PANEL_HOME: home });
      const configFile = path.join(home, 'config.json');
      await writeFile(configFile, JSON.stringify(config));
      const runtime = (rt = createPanelRuntime({ mode: 'browser', loaded: { config, path: configFile, configured: true }, paths, version: 'bench' }));
      // Sweeps on demand only: a monitor's own sweep would land inside a measurement.
      await Promise.all(ids.map((id) => runtime.fleet.member(id).ctx.health.stop()));
      for (const id of ids) await runtime.handlers.tokenImport({ from: 'container' }, id);

      const sweep = (id: string) => runtime.handlers.healthRun({}, id);
      const fleetSweep = () => Promise.all(ids.map(sweep));
      const first = await fleetSweep(); // warm-up, and the record of what ran
      const rounds = Math.max(1, Math.min(sizes.sweeps, 3));
      const alone = new Map<string, number[]>(ids.map((id) => [id, []]));
      const together: number[] = [];
      let panelCpuMs = 0;
      for (let round = 0; round < rounds; round++) {
        const cpu = process.cpuUsage();
        together.push((await timed(fleetSweep)).ms);
        const used = process.cpuUsage(cpu);
        panelCpuMs += (used.user + used.system) / 1000;
        for (const id of ids) alone.get(id)!.push((await timed(() => sweep(id))).ms);
      }
      progress(`fleet: ${rounds} rounds of ${ids.length} sweeps alone and together done`);
      const perInstance = ids.map((id) => ({ id, ms: median(alone.get(id)!) }));
      const slowest = perInstance.reduce((a, b) => (b.ms > a.ms ? b : a));
      const checks = first[0]!.checks;
      const failing = first.flatMap((s, i) => s.checks.filter((c) => c.status === 'fail').map((c) => `${ids[i]}:${c.id}`));
      return [
        measurement({
          id: 'fleet-sweep.ratio',
          label: `${ids.length} instances' sweeps (${checks.length} checks each) at once, median of ${rounds}`,
          value: median(together),
          unit: 'ms',
          baseline: slowest.ms,
          baselineLabel: `slowest instance's sweep alone (${slowest.id}, median of ${rounds})`,
          target: { kind: 'ratio-max', limit: 1.5, text: '<= 1.5x' },
          // On a shared 2-core machine the containers, the engine and other work compete for the CPU: the
          // panel's own share and the load say whether a miss is the fleet's or the machine's.
          note: `double containers on one engine, one runtime; panel CPU ${(panelCpuMs / rounds / ids.length).toFixed(0)} ms per instance sweep; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs; failing checks: ${failing.length ? failing.join(', ') : 'none'}`,
        }),
      ];
    } finally {
      await rt?.dispose();
      await Promise.all(names.map((n) => docker.getContainer(n).remove({ force: true }).catch(() => undefined)));
      await rm(home, { recursive: true, force: true });
    }
  },
};
