/**
 * Figure: what the operator waits for. `containerStatus` (the overview behind the Container card and
 * `container status`: state, login-node facts, stats, GPU) against the double container, vs one raw
 * `docker inspect` through dockerode; and the CLI's start (`--version`, `container status` of an
 * absent container: start plus one inspect) vs `node -e 0`. Targets of issue 15 item 7.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { parseConfig } from '../../app/config/load.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { ContainerMemory } from '../../app/docker/memory.js';
import { packageRoot } from '../../app/package-root.js';
import { ensureDoubleImage } from '../../test/support/double-image.js';
import { freePort } from '../../test/support/ports.js';
import { benchDocker } from '../support/docker.js';
import { measurement, type Figure } from '../measurement.js';
import { alternate, median } from '../stats.js';

const run = (args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'], cwd: packageRoot() });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    // container status exits 1 for an absent container: that is its answer, not a failure of the run.
    p.on('exit', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(0, 300)}`))));
  });

export const containerFigure: Figure = {
  id: 'container',
  title: 'containerStatus vs one docker inspect; CLI start vs node -e 0',
  async run(sizes, progress) {
    const docker = await benchDocker();
    const image = await ensureDoubleImage(docker);
    const home = await mkdtemp(path.join(tmpdir(), 'bench-container-'));
    const name = `bench-container-${process.pid}-${Date.now().toString(36)}`;
    const secretFile = path.join(home, 'password');
    await writeFile(secretFile, `${bcrypt.hashSync('bench-password', 4)}\nadmin`, { mode: 0o644 });
    const port = await freePort();
    const config = parseConfig({
      comfyui: { url: `http://127.0.0.1:${port}` },
      container: { name, image, hostPort: port, gpus: 'none', secretFile, stopTimeoutSec: 2, healthcheck: { intervalSec: 1, timeoutSec: 5, retries: 5, startPeriodSec: 1 } },
    });
    // One manager and one memory of the login node, as the service keeps them between calls.
    const manager = new ContainerManager(config, undefined, new ContainerMemory());
    try {
      await manager.create();
      await manager.start();
      const s = await manager.waitFor(['healthy', 'unhealthy', 'crashed'], 120_000);
      if (s.phase !== 'healthy') throw new Error(`the double container is ${s.phase}, not healthy`);
      await manager.overview(); // warm-up: the first read of a run's logs
      const raw = () => docker.getContainer(name).inspect();
      const rounds = Math.max(3, sizes.sweeps);
      const status = await alternate(rounds, () => manager.overview(), raw);
      progress(`container: ${rounds} overviews done`);

      const built = existsSync(path.join(packageRoot(), 'dist', 'cli.mjs'));
      if (!built) throw new Error('dist/cli.mjs is missing: run `npm run build` first (or leave BENCH_BUILD on)');
      const cliHome = path.join(home, 'cli');
      const env = { ...process.env, COMFY_PANEL_HOME: cliHome };
      await writeFile(path.join(home, 'cli.json'), JSON.stringify({ container: { name: `${name}-absent` } }));
      const bin = path.join(packageRoot(), 'bin', 'comfy-panel.mjs');
      const nodeZero = () => run(['-e', '0'], env);
      const version = await alternate(Math.max(3, sizes.paintRuns * 2), () => run([bin, '--version'], env), nodeZero);
      const statusCli = await alternate(Math.max(3, sizes.paintRuns * 2), () => run([bin, '--json', '--config', path.join(home, 'cli.json'), 'container', 'status'], env), nodeZero);
      progress('container: CLI starts done');
      return [
        measurement({
          id: 'container.status',
          label: `containerStatus (overview: state, login-node facts, stats, GPU) of the healthy double container, median of ${rounds}`,
          value: median(status.a),
          unit: 'ms',
          baseline: median(status.b),
          baselineLabel: 'one docker inspect through dockerode',
          target: { kind: 'value-max', limit: 300, text: '<= 300 ms' },
        }),
        measurement({
          id: 'container.cli-version',
          label: '`comfy-panel --version`, whole process',
          value: median(version.a),
          unit: 'ms',
          baseline: median(version.b),
          baselineLabel: '`node -e 0`',
          target: { kind: 'value-max', limit: 400, text: '<= 400 ms' },
        }),
        measurement({
          id: 'container.cli-status',
          label: '`comfy-panel container status` of an absent container (start, config, one inspect), whole process',
          value: median(statusCli.a),
          unit: 'ms',
          baseline: median(statusCli.b),
          baselineLabel: '`node -e 0`',
          target: { kind: 'value-max', limit: 400, text: '<= 400 ms' },
        }),
      ];
    } finally {
      await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }
  },
};
