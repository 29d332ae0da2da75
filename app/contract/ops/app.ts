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
}

export interface ConfigView {
  path: string;
  configured: boolean;
  config: PanelConfig;
}

export const appOps = {
  appInfo: op<AppInfo>()('Version, mode and where config and data live', z.object({}).strict()),
  configGet: op<ConfigView>()('The effective configuration (holds no secrets)', z.object({}).strict()),
  configSave: op<ConfigView>()(
    'Validate and atomically write the configuration file, keeping a backup',
    z.object({ config: z.unknown() }).strict(),
  ),
};
