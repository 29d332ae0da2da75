import path from 'node:path';
import envPaths from 'env-paths';

export interface PanelPaths {
  configFile: string;
  dataDir: string;
  logDir: string;
}

/**
 * Where the panel keeps its files. COMFY_PANEL_HOME puts everything under one folder
 * (tests, portable installs); otherwise the platform's usual config, data and log folders.
 */
export function panelPaths(env: NodeJS.ProcessEnv = process.env): PanelPaths {
  const home = env.COMFY_PANEL_HOME;
  if (home) {
    return {
      configFile: path.join(home, 'config.json'),
      dataDir: path.join(home, 'data'),
      logDir: path.join(home, 'logs'),
    };
  }
  const p = envPaths('comfy-panel', { suffix: '' });
  return { configFile: path.join(p.config, 'config.json'), dataDir: p.data, logDir: p.log };
}
