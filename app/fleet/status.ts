import { comfyClientFor } from '../comfy/connect.js';
import { listRuns, runsFile } from '../comfy/runs.js';
import { comfyStatus } from '../comfy/status.js';
import { pingDocker } from '../docker/connection.js';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import type { FleetRow } from '../contract/ops/fleet.js';
import type { HealthMonitor } from '../health/monitor.js';
import { redact } from '../redact.js';
import { readCurrentCredential, type VaultKeys } from '../tokens/vault.js';

/** How long one row may take: an instance that does not answer by then is shown with an error, never waited for. */
export const FLEET_ROW_DEADLINE_MS = 2_500;

/** The engine as configured, for people: never a password that a URL may carry. */
export function engineLabel(config: PanelConfig): string {
  const d = config.docker;
  if (d.context) return `context ${d.context}`;
  if (!d.host) return 'DOCKER_HOST or the current context';
  try {
    const u = new URL(d.host);
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return redact(d.host);
  }
}

const MB = 1024 * 1024;

/** What a row is made of: an instance's view, folders, vault keys and health history. */
export interface RowSource {
  config: PanelConfig;
  paths: PanelPaths;
  keys?: VaultKeys;
  health: Pick<HealthMonitor, 'status'>;
}

/** One instance's row of the fleet view; every part that fails is named in `error`, none throws. */
export async function fleetRow(id: string, label: string, src: RowSource): Promise<FleetRow> {
  const { config } = src;
  const errors: string[] = [];
  const soft = <T>(p: Promise<T>, what: string): Promise<T | undefined> =>
    p.catch((e: unknown) => {
      errors.push(`${what}: ${redact(e instanceof Error ? e.message : String(e))}`);
      return undefined;
    });
  // The client's own deadline bounds the one network call of a row (no timer left behind).
  const quick = {
    ...config,
    comfyui: { ...config.comfyui, timeoutMs: Math.min(config.comfyui.timeoutMs, FLEET_ROW_DEADLINE_MS) },
    docker: { ...config.docker, timeoutMs: Math.min(config.docker.timeoutMs, FLEET_ROW_DEADLINE_MS) },
  };
  // The engine is asked too: a ComfyUI that still answers says nothing about the engine that manages it.
  // The vault is read once: for the row's token age and for the client's token.
  const credential = soft(readCurrentCredential(config, src.paths, src.keys), 'vault');
  const [ping, health, status, cred, runs] = await Promise.all([
    soft(pingDocker(quick), 'engine'),
    soft(src.health.status(), 'health'),
    credential.then((c) => soft(comfyClientFor(quick, src.paths, { credential: c ?? null }).then(comfyStatus), 'ComfyUI')),
    credential,
    soft(listRuns(runsFile(src.paths), 1), 'runs'),
  ]);
  if (ping && !ping.ok) errors.push(`engine: ${redact(ping.problem?.message ?? `no answer from ${engineLabel(config)}`)}`);
  if (status && !status.ok) errors.push(`ComfyUI: ${status.error ?? 'no answer'}`);
  const device = status?.ok ? status.devices[0] : undefined;
  const last = runs?.[0];
  return {
    id,
    label,
    engine: engineLabel(config),
    checks: (health?.checks ?? []).map((c) => ({ id: c.id, status: c.status, message: c.message })),
    ...(device
      ? { gpu: { name: device.name, ...(device.vramTotal !== undefined ? { vramTotalMb: Math.round(device.vramTotal / MB) } : {}), ...(device.vramFree !== undefined ? { vramFreeMb: Math.round(device.vramFree / MB) } : {}) } }
      : {}),
    ...(status?.ok && status.queue ? { queue: status.queue } : {}),
    tokenCreatedAt: cred?.createdAt ?? null,
    lastGeneration: last ? { time: last.time, ok: last.ok, ...(last.workflow ? { workflow: last.workflow } : {}) } : null,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}
