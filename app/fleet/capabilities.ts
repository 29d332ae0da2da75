import type { ComfyClient, ObjectInfo } from '../comfy/client.js';
import { ComfyError, type ComfyErrorKind } from '../comfy/errors.js';
import { comboInputs, knownModelFolder } from '../comfy/preflight.js';
import type { ApiGraph } from '../comfy/shapes.js';
import { comfyClientFor } from '../comfy/connect.js';
import { loadWorkflow, type WorkflowSource } from '../comfy/workflow.js';
import type { PanelPaths } from '../config/paths.js';
import type { PanelConfig } from '../config/schema.js';
import type { CapabilityMatrix, CapabilityRow } from '../contract/ops/fleet.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { VaultKeys } from '../tokens/vault.js';

/** A model file by the folder_paths name of its folder ("vae", "diffusion_models", ...) and its name in that folder. */
export interface ModelRef {
  folder: string;
  file: string;
}

/** What a workflow needs from the server that runs it. */
export interface WorkflowRequirements {
  /** Every class_type the graph uses, sorted. */
  nodeClasses: string[];
  /** Every model file its loaders name, once each, with the node ids that load it. */
  models: (ModelRef & { nodes: string[] })[];
  /** Only what the caller knows (e.g. the workflow's own metadata): the API does not tell model sizes. */
  minVramMb?: number;
}

/** What one ComfyUI offers. */
export interface InstanceCapabilities {
  /** From GET /object_info, sorted. */
  nodeClasses: string[];
  /** Files per model folder, from GET /models and GET /models/{folder}. */
  models: Record<string, string[]>;
  /**
   * "Class.input" -> its model folder, for each combo input whose list is one folder's files on
   * this server, and the choices it offers besides them (VAELoader's "pixel_space"): no file to need.
   */
  modelInputs: Record<string, { folder: string; extras: string[] }>;
  /** The device with the most VRAM (a prompt runs on one device; VRAM does not add up across GPUs). */
  vram?: { device: string; type: string; totalMb: number; freeMb?: number };
}

/** One instance's answer: its capabilities, or why they could not be read. */
export type CapabilityProbe = { capabilities: InstanceCapabilities; error?: undefined } | { capabilities?: undefined; error: string; errorKind: ComfyErrorKind | 'failed' };

const MIB = 1024 * 1024;

/**
 * The node classes, model files and (when the caller knows it) VRAM a graph needs. A literal
 * input names a model file when an instance's /object_info lists it as a model folder's combo
 * (`learnedFrom`), else by ComfyUI's core loaders (knownModelFolder): a server whose folder is
 * empty, or that lacks the file, cannot tell which folder the input reads.
 */
export function workflowRequirements(graph: ApiGraph, opts: { minVramMb?: number; learnedFrom?: readonly InstanceCapabilities[] } = {}): WorkflowRequirements {
  const { minVramMb } = opts;
  if (minVramMb !== undefined && !(Number.isFinite(minVramMb) && minVramMb > 0)) {
    throw new ConfigError(`minVramMb: ${String(minVramMb)} is not a positive number of MiB`, 'Give the VRAM the workflow needs in MiB, e.g. 12288, or leave it out');
  }
  const learned: InstanceCapabilities['modelInputs'] = Object.fromEntries((opts.learnedFrom ?? []).flatMap((c) => Object.entries(c.modelInputs)));
  const models = new Map<string, ModelRef & { nodes: string[] }>();
  for (const [id, node] of Object.entries(graph)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (typeof value !== 'string') continue; // links are arrays; numbers and booleans name no file
      const seen = learned[`${node.class_type}.${input}`];
      if (seen?.extras.includes(value)) continue;
      const folder = seen?.folder ?? knownModelFolder(node.class_type, input, value);
      if (!folder) continue;
      const key = `${folder}/${value}`;
      const model = models.get(key) ?? { folder, file: value, nodes: [] };
      model.nodes.push(id);
      models.set(key, model);
    }
  }
  return {
    nodeClasses: [...new Set(Object.values(graph).map((n) => n.class_type))].sort(),
    models: [...models.values()],
    ...(minVramMb === undefined ? {} : { minVramMb }),
  };
}

/**
 * The inputs whose choices are exactly one folder's files once entries that are no file on this
 * server are set aside (VAELoader also offers "pixel_space" and the taesd decoders). An empty
 * folder matches every empty list and two folders with the same files match each other's
 * inputs, so neither teaches anything.
 */
function modelInputsOf(info: ObjectInfo, models: Record<string, string[]>): InstanceCapabilities['modelInputs'] {
  const allFiles = new Set(Object.values(models).flat());
  const folders = Object.entries(models).filter(([, files]) => files.length > 0);
  const out: InstanceCapabilities['modelInputs'] = {};
  for (const [cls, nodeInfo] of Object.entries(info)) {
    for (const [input, choices] of comboInputs(nodeInfo)) {
      const strings = choices.filter((c): c is string => typeof c === 'string');
      const named = new Set(strings.filter((c) => allFiles.has(c)));
      const matches = folders.filter(([, files]) => files.length === named.size && files.every((f) => named.has(f)));
      if (matches.length === 1) out[`${cls}.${input}`] = { folder: matches[0]![0], extras: strings.filter((c) => !named.has(c)) };
    }
  }
  return out;
}

/**
 * Reads what one server offers. Each request has the client's deadline; any failure (down,
 * refused token, not a ComfyUI) is returned as that instance's error, never thrown.
 */
export async function instanceCapabilities(client: ComfyClient): Promise<CapabilityProbe> {
  try {
    const [info, stats, models] = await Promise.all([
      client.objectInfo(),
      client.systemStats(),
      client.modelFolders().then(async (folders) => Object.fromEntries(await Promise.all(folders.map(async (f) => [f, await client.modelFiles(f)] as const)))),
    ]);
    const device = stats.devices.filter((d) => d.vram_total !== undefined).sort((a, b) => b.vram_total! - a.vram_total!)[0];
    return {
      capabilities: {
        nodeClasses: Object.keys(info).sort(),
        models,
        modelInputs: modelInputsOf(info, models),
        ...(device && {
          vram: {
            device: device.name,
            type: device.type,
            totalMb: Math.floor(device.vram_total! / MIB),
            ...(device.vram_free !== undefined && { freeMb: Math.floor(device.vram_free / MIB) }),
          },
        }),
      },
    };
  } catch (e) {
    return { error: errorMessage(e), errorKind: e instanceof ComfyError ? e.kind : 'failed' };
  }
}

/** One row per instance: whether it can run the workflow, and if not, what it lacks. */
export function capabilityMatrix(requirements: WorkflowRequirements, perInstance: readonly ({ id: string } & CapabilityProbe)[]): CapabilityRow[] {
  const needMb = requirements.minVramMb;
  return perInstance.map((inst) => {
    if (inst.error !== undefined) {
      return { id: inst.id, ok: false, missingNodes: [], missingModels: [], vram: { needMb, ok: false }, error: inst.error };
    }
    const caps = inst.capabilities;
    const classes = new Set(caps.nodeClasses);
    const missingNodes = requirements.nodeClasses.filter((c) => !classes.has(c));
    const missingModels = requirements.models.filter((m) => !caps.models[m.folder]?.includes(m.file)).map(({ folder, file }) => ({ folder, file }));
    const haveMb = caps.vram?.totalMb;
    const vramOk = needMb === undefined || (haveMb !== undefined && haveMb >= needMb);
    return {
      id: inst.id,
      ok: !missingNodes.length && !missingModels.length && vramOk,
      missingNodes,
      missingModels,
      vram: { needMb, haveMb, ok: vramOk },
    };
  });
}

/**
 * The matrix for a workflow across instances, each asked at once with its own client (vault
 * token, deadline): one that does not answer is a row with its error.
 */
export async function capabilitiesAcross(
  instances: readonly { id: string; config: PanelConfig; paths: PanelPaths; keys?: VaultKeys }[],
  source: WorkflowSource,
  minVramMb?: number,
): Promise<CapabilityMatrix> {
  const workflow = await loadWorkflow(source);
  const probes = await Promise.all(
    instances.map(async (i) => ({ id: i.id, ...(await instanceCapabilities(await comfyClientFor(i.config, i.paths, i.keys ? { keys: i.keys } : {}))) })),
  );
  const requirements = workflowRequirements(workflow.graph, { ...(minVramMb !== undefined ? { minVramMb } : {}), learnedFrom: probes.flatMap((p) => p.capabilities ?? []) });
  return { workflow: workflow.name, requirements, instances: capabilityMatrix(requirements, probes) };
}
