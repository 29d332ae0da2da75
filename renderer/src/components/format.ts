import type { ContainerPhase } from '../../../app/contract/index.js';
import type { Light } from './StatusLight.js';

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export const phaseLight: Record<ContainerPhase, Light> = {
  healthy: 'ok',
  starting: 'busy',
  created: 'warn',
  unhealthy: 'fail',
  crashed: 'fail',
  stopped: 'warn',
  absent: 'unknown',
  unknown: 'unknown',
};

export function factLight(value: boolean | null): Light {
  return value === null ? 'unknown' : value ? 'ok' : 'fail';
}
