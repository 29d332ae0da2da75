import { comfyClientFor } from '../comfy/connect.js';
import { listRuns, runsFile } from '../comfy/runs.js';
import { pingDocker } from '../docker/connection.js';
import { comfyStatus } from '../comfy/status.js';
import type { PanelConfig } from '../config/schema.js';
import type { PanelHandlers } from '../contract/index.js';
import type { FleetRow } from '../contract/ops/fleet.js';
import { capabilitiesAcross } from '../fleet/capabilities.js';
import { stagedRotation } from '../fleet/staged-rotation.js';
import { redact } from '../redact.js';
import { readCurrentCredential } from '../tokens/vault.js';
import type { Fleet, Member } from './fleet.js';

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

async function row(id: string, label: string, m: Member): Promise<FleetRow> {
  const { config } = m.ctx.loaded;
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
  const [ping, health, status, credential, runs] = await Promise.all([
    soft(pingDocker(quick), 'engine'),
    soft(m.ctx.health.status(), 'health'),
    soft(comfyClientFor(quick, m.ctx.paths, { keys: m.ctx.vaultKeys }).then(comfyStatus), 'ComfyUI'),
    soft(readCurrentCredential(config, m.ctx.paths, m.ctx.vaultKeys), 'vault'),
    soft(listRuns(runsFile(m.ctx.paths), 1), 'runs'),
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
    tokenCreatedAt: credential?.createdAt ?? null,
    lastGeneration: last ? { time: last.time, ok: last.ok, ...(last.workflow ? { workflow: last.workflow } : {}) } : null,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

/** The operations on the fleet as a whole. */
export function fleetHandlers(fleet: Fleet) {
  return {
    fleetStatus: async () => {
      const labels = new Map(fleet.instances().map((i) => [i.id, i.label]));
      const rows = await Promise.all(fleet.ids().map((id) => row(id, labels.get(id) ?? id, fleet.member(id))));
      return { instances: rows, at: new Date().toISOString() };
    },
    fleetRotate: async ({ canary, wave, resume }) =>
      stagedRotation({
        ids: fleet.ids(),
        ...(canary ? { canary } : {}),
        wave,
        resume,
        dataDir: fleet.dataDir,
        // Through the instance's own handler: its steps reach the UI tagged with the instance.
        rotate: (id) => fleet.member(id).handlers.tokenRotate({}),
      }),
    fleetCapabilities: async ({ workflow, minVramMb }) =>
      capabilitiesAcross(
        fleet.ids().map((id) => {
          const { ctx } = fleet.member(id);
          return { id, config: ctx.loaded.config, paths: ctx.paths, keys: ctx.vaultKeys };
        }),
        workflow,
        minVramMb,
      ),
  } satisfies Partial<PanelHandlers>;
}
