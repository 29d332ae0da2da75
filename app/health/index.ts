/** Health: checks, sweeps, history, the auth success-rate probe, troubleshooting and first-run detection. */
import type { PanelPaths } from '../config/paths.js';
import { healthChecks } from './checks/index.js';
import { historyFile } from './history.js';
import { HealthMonitor, type MonitorOptions } from './monitor.js';

export { healthChecks } from './checks/index.js';
export { HealthMonitor, type MonitorOptions } from './monitor.js';
export { HealthHistory, historyFile, HISTORY_LENGTH } from './history.js';
export { combineNotifiers, stateChanges, type Notifier, type StateChange } from './notifier.js';
export { probeAuthRate, probeConfigured, percentile } from './probe.js';
export { runSweep, runCheck, type SweepOptions } from './runner.js';
export { SweepContext, type SweepDeps } from './sweep-context.js';
export { detectSetup, detectDocker, applySetupChoices, engineHowTo } from './setup.js';
export { REMEDIES, failureClasses, fixFor, type FailureClass, type Remedy } from './troubleshoot.js';
export type { HealthCheck, Verdict } from './check.js';

/** The monitor over every registered check, its history in the data folder. */
export function createHealthMonitor(paths: PanelPaths, opts: Omit<MonitorOptions, 'checks' | 'historyFile'>): HealthMonitor {
  return new HealthMonitor({ checks: healthChecks, historyFile: historyFile(paths), ...opts });
}
