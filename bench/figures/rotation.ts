/**
 * Figure 4: a full verified rotation minus the server restart and the wait for health
 * (both timed by the rotation's own steps and subtracted), against one bcrypt hash at the
 * production cost, the single expensive step a rotation cannot avoid.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { bcryptCost, generatePassword } from '../../app/tokens/credential.js';
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
        return [
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
