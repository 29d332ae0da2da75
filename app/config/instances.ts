import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { PanelPaths } from './paths.js';
import { instanceSections, type PanelConfig } from './schema.js';

/** The id of the one instance a config without `instances` describes (and whose data folder is the panel's own). */
export const DEFAULT_INSTANCE = 'default';

export interface InstanceRef {
  id: string;
  label: string;
}

/** The instances of a config, in its order; a config without `instances` has one, "default". */
export function listInstances(config: PanelConfig): InstanceRef[] {
  if (!config.instances) return [{ id: DEFAULT_INSTANCE, label: DEFAULT_INSTANCE }];
  return config.instances.map((i) => ({ id: i.id, label: i.label ?? i.id }));
}

function unknownInstance(config: PanelConfig, id: string): ConfigError {
  const known = listInstances(config).map((i) => i.id);
  return new ConfigError(`unknown instance "${id}": this config has ${known.join(', ')}`, `Use one of: ${known.map((k) => `--instance ${k}`).join(', ')}.`);
}

/**
 * One instance seen as the single-deployment config every area already reads: the top level
 * with the instance's own sections in place and no `instances`. So a per-instance feature is
 * written once, against a PanelConfig, and runs for each instance unchanged.
 */
export function instanceConfig(config: PanelConfig, id: string): PanelConfig {
  const { instances, ...shared } = config;
  if (!instances) {
    if (id !== DEFAULT_INSTANCE) throw unknownInstance(config, id);
    return shared;
  }
  const inst = instances.find((i) => i.id === id);
  if (!inst) throw unknownInstance(config, id);
  const own = Object.fromEntries(instanceSections.flatMap((s) => (inst[s] === undefined ? [] : [[s, inst[s]]])));
  return { ...shared, ...own };
}

/**
 * Where an instance keeps its vault, history, runs, locks, journals and gateway state:
 * "default" the panel's data folder itself (no migration for a config that grows instances),
 * every other `<data>/instances/<id>`. Logs stay the panel's.
 */
export function instancePaths(paths: PanelPaths, id: string): PanelPaths {
  if (id === DEFAULT_INSTANCE) return paths;
  return { ...paths, dataDir: path.join(paths.dataDir, 'instances', id) };
}

/** `next`, an instance's view changed by an operation (setup, adoption), written back into the whole config. */
export function withInstanceConfig(config: PanelConfig, id: string, next: PanelConfig): PanelConfig {
  const { instances, ...shared } = config;
  if (!instances) {
    if (id !== DEFAULT_INSTANCE) throw unknownInstance(config, id);
    return { ...next, instances: undefined };
  }
  const at = instances.findIndex((i) => i.id === id);
  if (at < 0) throw unknownInstance(config, id);
  const own = Object.fromEntries(instanceSections.map((s) => [s, next[s]]));
  return { ...shared, instances: instances.map((inst, i) => (i === at ? { ...inst, ...own } : inst)) };
}
