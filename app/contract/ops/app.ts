import { z } from 'zod';
import { op } from '../define.js';
import type { PanelConfig } from '../../config/schema.js';

export interface AppInfo {
  name: string;
  version: string;
  /** How the UI is being served. */
  mode: 'electron' | 'browser';
  platform: string;
  configPath: string;
  /** False until a config file exists: the UI then shows the first-run setup. */
  configured: boolean;
  dataDir: string;
  /** The deployments of this panel, in config order; one ("default") without `instances`. */
  instances: { id: string; label: string }[];
}

export interface ConfigView {
  path: string;
  configured: boolean;
  config: PanelConfig;
}

/** A config checked before saving: the issues per field (none: valid) and what would change. */
export interface ConfigCheck {
  ok: boolean;
  issues: { path: string; message: string }[];
  changes: { field: string; from: string; to: string }[];
}

export const appOps = {
  appInfo: op<AppInfo>()('Version, mode and where config and data live', z.object({}).strict()),
  configGet: op<ConfigView>()('The effective configuration (holds no secrets)', z.object({}).strict()),
  configSchema: op<Record<string, unknown>>()('The JSON Schema of the config file (field types, limits and descriptions), for the Settings form', z.object({}).strict()),
  configCheck: op<ConfigCheck>()(
    'Validate a config without saving it, with the field-by-field changes against the one in use',
    z.object({ config: z.unknown() }).strict(),
  ),
  configSave: op<ConfigView>()(
    'Validate and atomically write the configuration file, keeping a backup',
    z.object({ config: z.unknown() }).strict(),
  ),
};
