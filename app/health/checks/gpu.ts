import { fail, ok, unknown, warn, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';

/** Below this share of free memory a GPU may not fit the next model. */
const LOW_FREE = 0.05;

/** GPUs visible in the container, used by ComfyUI, with free memory; no GPU is a warning (a CPU box still serves the smoke test). */
export const gpuCheck: HealthCheck = {
  id: 'gpu',
  title: 'GPU',
  async run(ctx) {
    const why = await ctx.containerUnavailable();
    if (why) return unknown(`cannot look for a GPU: ${why}`);
    const report = await ctx.gpu();
    if (!report.gpus?.length) {
      const requested = ctx.config.container.gpus !== 'none';
      return warn(`${report.reason ?? 'no GPU visible in the container'}${requested ? '' : ' (container.gpus is "none")'}; generation runs on the CPU`, requested ? fixFor('nvidia-runtime-missing') : undefined);
    }
    // The container sees a GPU; ComfyUI may still run on the CPU (CPU-only torch, CUDA mismatch, --cpu).
    const devices = await ctx.systemStats().then((st) => st.devices, () => undefined);
    if (devices && !devices.some((dev) => dev.type === 'cuda')) {
      const names = report.gpus.map((g) => g.name).join(', ');
      return fail(`the container sees ${names} but ComfyUI runs on ${devices.map((dev) => dev.type).join(', ') || 'no device'}`, fixFor('gpu-unused'));
    }
    const shown = report.gpus.map((g) => `${g.name}: ${g.memoryTotalMiB - g.memoryUsedMiB} of ${g.memoryTotalMiB} MiB free`);
    const low = report.gpus.filter((g) => g.memoryTotalMiB > 0 && (g.memoryTotalMiB - g.memoryUsedMiB) / g.memoryTotalMiB < LOW_FREE);
    if (low.length) {
      return warn(`GPU memory nearly full: ${shown.join('; ')}`, { text: 'Unload models (ComfyUI\'s "Free model and node cache", or POST /free) or stop other GPU processes.' });
    }
    return ok(shown.join('; '));
  },
};
