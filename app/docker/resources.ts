import type Docker from 'dockerode';
import type { GpuInfo, GpuReport } from '../contract/ops/container.js';
import { redact } from '../redact.js';

/** CPU use over the daemon's two samples, as `docker stats` computes it (100% = one core). */
export function cpuPercent(s: Docker.ContainerStats): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  if (systemDelta <= 0 || cpuDelta < 0) return 0;
  return Math.round((cpuDelta / systemDelta) * cpus * 1000) / 10;
}

/** Memory in use without the reclaimable page cache, as `docker stats` shows it (cgroup v1 and v2). */
export function memoryUsed(s: Docker.ContainerStats): number {
  const st = (s.memory_stats.stats ?? {}) as Record<string, number | undefined>;
  const cache = st.inactive_file ?? st.total_inactive_file ?? st.cache ?? 0;
  return Math.max(0, (s.memory_stats.usage ?? 0) - cache);
}

/** Parses `nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((l) => l.split(',').map((f) => f.trim()))
    .filter((f) => f.length === 3 && f[0] && Number.isFinite(Number(f[1])) && Number.isFinite(Number(f[2])))
    .map(([name = '', used, total]) => ({ name, memoryUsedMiB: Number(used), memoryTotalMiB: Number(total) }));
}

/** Turns the nvidia-smi exec result into a report; no GPU is a plain answer with the reason. */
export function gpuReport(r: { exitCode: number; stdout: string; stderr: string }): GpuReport {
  const output = `${r.stderr}\n${r.stdout}`;
  if (r.exitCode === 0) {
    const gpus = parseNvidiaSmi(r.stdout);
    return gpus.length ? { gpus } : { gpus: null, reason: 'nvidia-smi listed no GPU' };
  }
  if (/executable file not found|no such file or directory|not found/i.test(output)) {
    return { gpus: null, reason: 'no GPU: nvidia-smi is not in the container (no NVIDIA runtime or GPU request)' };
  }
  const first = output.split('\n').find((l) => l.trim()) ?? `nvidia-smi exited with ${r.exitCode}`;
  return { gpus: null, reason: `no GPU: ${redact(first.trim()).slice(0, 300)}` };
}
