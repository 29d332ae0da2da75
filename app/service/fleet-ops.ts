import type { PanelHandlers } from '../contract/index.js';
import { capabilitiesAcross } from '../fleet/capabilities.js';
import { stagedRotation } from '../fleet/staged-rotation.js';
import { fleetRow } from '../fleet/status.js';
import type { Fleet } from './fleet.js';

/** The operations on the fleet as a whole. */
export function fleetHandlers(fleet: Fleet) {
  return {
    fleetStatus: async () => {
      const labels = new Map(fleet.instances().map((i) => [i.id, i.label]));
      const rows = await Promise.all(
        fleet.ids().map((id) => {
          const { ctx } = fleet.member(id);
          return fleetRow(id, labels.get(id) ?? id, { config: ctx.loaded.config, paths: ctx.paths, keys: ctx.vaultKeys, health: ctx.health });
        }),
      );
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
