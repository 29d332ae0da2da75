import type { ComfyStatus } from '../contract/ops/generate.js';
import { errorMessage } from '../errors.js';
import type { ComfyClient } from './client.js';
import { ComfyError } from './errors.js';

/** A summary of /system_stats and /queue; an unreachable or refusing server gives ok: false and why. */
export async function comfyStatus(client: ComfyClient): Promise<ComfyStatus> {
  const started = performance.now();
  try {
    const [stats, queue] = await Promise.all([client.systemStats(), client.queue()]);
    return {
      url: client.baseUrl,
      ok: true,
      latencyMs: Math.round(performance.now() - started),
      version: stats.system.comfyui_version,
      pythonVersion: stats.system.python_version,
      pytorchVersion: stats.system.pytorch_version,
      devices: stats.devices.map((d) => ({ name: d.name, type: d.type, vramTotal: d.vram_total, vramFree: d.vram_free })),
      queue: { running: queue.running.length, pending: queue.pending.length },
    };
  } catch (e) {
    return {
      url: client.baseUrl,
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      devices: [],
      error: errorMessage(e),
      errorKind: e instanceof ComfyError ? e.kind : 'failed',
    };
  }
}
