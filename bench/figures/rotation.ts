/**
 * Figure 4: a full verified rotation minus the server restart and the wait for health
 * (both timed by the rotation's own steps and subtracted), against one bcrypt hash at the
 * production cost, the single expensive step a rotation cannot avoid. Then, against the
 * double's container, the rotation's downtime (no token works) and its restart + wait-healthy
 * steps, each against the container's own restart-to-first-200 time measured in the same run.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import { ContainerManager } from '../../app/docker/manager.js';
import { probeAuth } from '../../app/comfy/client.js';
import { tokenActions } from '../../app/tokens/actions.js';
import { bcryptCost, createCredential, generatePassword, passwordFileContent } from '../../app/tokens/credential.js';
import { openVault } from '../../app/tokens/vault.js';
import { ensureDoubleImage } from '../../test/support/double-image.js';
import { freePort } from '../../test/docker/helpers.js';
import { requireDocker } from '../../test/support/docker.js';
import { secretFileLocation } from '../../app/tokens/locations.js';
import { rotateCredential } from '../../app/tokens/rotation.js';
import { hostDoubleServer, makeDeployment } from '../../test/tokens/support.js';
import { measurement, type Figure } from '../measurement.js';
import { median, timed } from '../stats.js';

const SERVER_STEPS = new Set(['restart', 'wait-healthy']);

export const rotationFigure: Figure = {
  id: 'rotation',
  title: 'rotation without the restart vs one bcrypt hash',
  async run(sizes, progress) {
    const base = await mkdtemp(path.join(tmpdir(), 'bench-rotation-'));
    const cost = bcryptCost();
    try {
      const { vault, secret, mirror, deploy } = await makeDeployment(base);
      const server = await hostDoubleServer(deploy);
      try {
        const deps = { vault, server, locations: [secretFileLocation(secret), secretFileLocation(mirror, 'mirror')], actor: 'bench:rotation', username: 'comfy' };
        const rotationMs: number[] = [];
        const hashMs: number[] = [];
        for (let n = 0; n < sizes.rotations; n++) {
          const { ms, result } = await timed(() => rotateCredential(deps, { kind: 'rotate' }));
          if (result.outcome !== 'committed') throw new Error(`rotation ${n + 1} ended ${result.outcome} at ${result.failedStep ?? '?'}: ${result.error ?? ''}`);
          const serverMs = result.steps.filter((s) => SERVER_STEPS.has(s.name)).reduce((a, s) => a + s.ms, 0);
          rotationMs.push(ms - serverMs);
          hashMs.push((await timed(() => bcrypt.hash(generatePassword(), cost))).ms);
        }
        progress(`rotation: ${sizes.rotations} rotations done`);
        const downtime = await containerDowntime(sizes.rotations, progress);
        return [
          ...downtime,
          measurement({
            id: 'rotation.total',
            label: `rotation (generate, backup, stage, write 2 files, verify 3 probes, commit), median of ${sizes.rotations}`,
            value: median(rotationMs),
            unit: 'ms',
            baseline: median(hashMs),
            baselineLabel: `bcryptjs hash, cost ${cost}`,
            target: { kind: 'ratio-max', limit: 2, text: '<= 2x' },
            note: 'host double; its restart and wait-healthy step times are subtracted',
          }),
        ];
      } finally {
        await server.close();
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  },
};

/**
 * Polls the server with every token it might hold; adds up the time during which none of them
 * got 200 (the downtime clients see), until stop().
 */
function downtimeMeter(url: string, tokens: () => string[]) {
  let stopped = false;
  let downSince: number | undefined;
  let downMs = 0;
  const loop = (async () => {
    while (!stopped) {
      const results = await Promise.all(tokens().map((t) => probeAuth(url, t, 2_000)));
      const now = performance.now();
      if (results.some((r) => r.status === 200)) {
        if (downSince !== undefined) downMs += now - downSince;
        downSince = undefined;
      } else downSince ??= now;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop(): Promise<number> {
      stopped = true;
      await loop;
      return downMs + (downSince !== undefined ? performance.now() - downSince : 0);
    },
  };
}

/** rotation.downtime and rotation.restartSteps against the double's container, each over the container's own restart-to-first-200. */
async function containerDowntime(rounds: number, progress: (line: string) => void) {
  // The engine without the panel's short-call deadlines: importing the double's image takes longer on a loaded machine.
  const engine = await requireDocker();
  if (!engine.ok) throw new Error(engine.reason);
  const docker = engine.docker;
  const home = await mkdtemp(path.join(tmpdir(), 'bench-rotation-ct-'));
  const name = `bench-rotation-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const port = await freePort();
    const secretFile = path.join(home, 'secrets', 'comfyui-password');
    await mkdir(path.dirname(secretFile), { recursive: true });
    const initial = await createCredential('comfy');
    await writeFile(secretFile, passwordFileContent(initial), { mode: 0o600 });
    const config = parseConfig({
      comfyui: { url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 },
      docker: { timeoutMs: 30_000 },
      container: { name, image: await ensureDoubleImage(docker), hostPort: port, secretFile, gpus: 'none', restartPolicy: 'no', stopTimeoutSec: 3 },
      vault: { dir: path.join(home, 'vault') },
    });
    const paths = panelPaths({ COMFY_PANEL_HOME: home });
    const vault = openVault(config, paths);
    await vault.write({ current: initial });
    const manager = new ContainerManager(config, docker);
    await manager.start();
    const firstOk = async (token: string) => {
      for (;;) {
        if ((await probeAuth(config.comfyui.url, token, 2_000)).status === 200) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await firstOk(initial.hash);
    const restartMs: number[] = [];
    const downMs: number[] = [];
    const stepsMs: number[] = [];
    const actions = tokenActions(config, paths, { actor: 'bench:rotation', docker, configFile: path.join(home, 'config.json') });
    for (let n = 0; n < rounds; n++) {
      // The baseline: the container's own restart, from the call to the first 200.
      const current = (await vault.read())!.current.hash;
      restartMs.push((await timed(async () => { await manager.restart(); await firstOk(current); })).ms);
      let next: string | undefined;
      const meter = downtimeMeter(config.comfyui.url, () => [current, ...(next ? [next] : [])]);
      // The new token is known only once the vault commits; until then the meter also reads it from the secret file.
      const watch = setInterval(() => {
        void readFile(secretFile, 'utf8').then((t) => (next = t.split('\n')[0]), () => undefined);
      }, 20);
      const result = await actions.rotate().finally(() => clearInterval(watch));
      if (result.outcome !== 'committed') throw new Error(`container rotation ${n + 1} ended ${result.outcome} at ${result.failedStep ?? '?'}: ${result.error ?? ''}`);
      next = (await vault.read())!.current.hash;
      await firstOk(next);
      downMs.push(await meter.stop());
      stepsMs.push(result.steps.filter((s) => SERVER_STEPS.has(s.name)).reduce((a, s) => a + s.ms, 0));
    }
    progress(`rotation: ${rounds} container rotations done`);
    const baseline = median(restartMs);
    const baselineLabel = `the container's own restart to first 200, median of ${rounds}`;
    return [
      measurement({
        id: 'rotation.downtime',
        label: `time neither the old nor the new token gets 200 during a rotation against the double's container, median of ${rounds}`,
        value: median(downMs),
        unit: 'ms',
        baseline,
        baselineLabel,
        target: { kind: 'ratio-max', limit: 1.5, text: '<= 1.5x' },
        note: 'polled every 20 ms with both tokens',
      }),
      measurement({
        id: 'rotation.restartSteps',
        label: `a rotation's restart + wait-healthy steps (wait-healthy polls ComfyUI, not Docker's healthcheck), median of ${rounds}`,
        value: median(stepsMs),
        unit: 'ms',
        baseline,
        baselineLabel,
        target: { kind: 'ratio-max', limit: 1.5, text: '<= 1.5x' },
        note: "the container's Docker healthcheck runs every 30 s (the recipe's default); waiting for it would add up to that",
      }),
    ];
  } finally {
    await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}
