import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config/load.js';
import { panelPaths } from '../../app/config/paths.js';
import type { SystemStats } from '../../app/comfy/client.js';
import type { GpuReport } from '../../app/contract/ops/container.js';
import { gpuCheck } from '../../app/health/checks/gpu.js';
import { SweepContext } from '../../app/health/sweep-context.js';

/** The lookups the GPU check reads, as nvidia-smi in the container and /system_stats would answer them. */
class Seen extends SweepContext {
  constructor(
    private readonly report: GpuReport,
    private readonly deviceTypes: string[],
    gpus: 'all' | 'none' = 'all',
  ) {
    super({ config: parseConfig({ container: { gpus } }), paths: panelPaths({ COMFY_PANEL_HOME: '/nonexistent' }), configFile: '/nonexistent/config.json' });
  }
  override containerUnavailable = async () => undefined;
  override gpu = async () => this.report;
  override systemStats = async () => ({ system: {}, devices: this.deviceTypes.map((type, index) => ({ name: `${type}:${index}`, type, index })) }) as SystemStats;
}

const rtx = (usedMiB: number) => ({ name: 'NVIDIA GeForce RTX 3090', memoryUsedMiB: usedMiB, memoryTotalMiB: 24_576 });

describe('gpu check', () => {
  it('ok with a GPU ComfyUI uses and memory free', async () => {
    const v = await gpuCheck.run(new Seen({ gpus: [rtx(2_000)] }, ['cuda']));
    expect(v).toMatchObject({ status: 'ok', message: 'NVIDIA GeForce RTX 3090: 22576 of 24576 MiB free' });
  });

  it('warns when GPU memory is nearly full', async () => {
    expect((await gpuCheck.run(new Seen({ gpus: [rtx(24_000)] }, ['cuda']))).status).toBe('warn');
  });

  it('warns, not fails, without a GPU (a CPU box)', async () => {
    const v = await gpuCheck.run(new Seen({ gpus: null, reason: 'no GPU: nvidia-smi is not in the container' }, ['cpu'], 'none'));
    expect(v).toMatchObject({ status: 'warn', message: expect.stringMatching(/no GPU.*"none".*CPU/) });
  });

  it('fails when the container has a GPU but ComfyUI runs on the CPU', async () => {
    const v = await gpuCheck.run(new Seen({ gpus: [rtx(0)] }, ['cpu']));
    expect(v).toMatchObject({ status: 'fail', message: 'the container sees NVIDIA GeForce RTX 3090 but ComfyUI runs on cpu' });
    expect(v.fix?.text).toMatch(/CUDA build of PyTorch/);
  });
});
